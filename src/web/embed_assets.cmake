# Turns each file in src/web/assets/ into a C byte array plus a lookup table:
#   const struct web_asset web_assets[]; const size_t web_assets_count;
# (declared in src/web/assets.h). Run by CMake at build time; no other tools.
# The files are globbed here rather than taken from -DASSETS, because a list
# passed on the command line arrives split (and quoted) by the shell.
file(GLOB ASSETS ${CMAKE_CURRENT_LIST_DIR}/assets/*)
list(SORT ASSETS)
set(body "#include <stddef.h>\n#include \"assets.h\"\n\n")
set(table "const struct web_asset web_assets[] = {\n")
set(count 0)
foreach(path ${ASSETS})
  get_filename_component(name ${path} NAME)
  string(MAKE_C_IDENTIFIER ${name} id)
  file(READ ${path} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const unsigned char asset_${id}[] = { ${bytes} 0 };\n")
  string(APPEND table "\t{ \"${name}\", asset_${id}, ${len} },\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND table "};\nconst size_t web_assets_count = ${count};\n")
file(WRITE ${OUT} "${body}\n${table}")
