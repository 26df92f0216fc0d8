# Writes a `git fast-import` stream for the clone benchmark (bench/run.sh, clone phase):
# COMMITS commits on refs/heads/main and FILES files at the tip, deterministic content.
# Commit i adds the next FILES/COMMITS files and rewrites EDITS older ones.
# Run with LC_ALL=C so that length() counts bytes.
# Usage: awk -v files=5000 -v commits=2000 -f bench/gen-repo.awk | git -C BARE fast-import --quiet
function rnd() { seed = (seed * 16807) % 2147483647; return seed }
function path(f) { return sprintf("src/d%02d/f%04d.txt", f % 50, f) }
function content(f, v,   s, k, n) {
	s = sprintf("file %d version %d\n", f, v)
	n = 12 + f % 20
	for (k = 0; k < n; k++)
		s = s sprintf("line %d of file %d: %08x %08x %08x\n", k, f, rnd(), (f * 7919 + k * 104729) % 2147483647, v * 31 + k)
	return s
}
function blob(f, v,   c) {
	c = content(f, v)
	printf "M 100644 inline %s\ndata %d\n%s\n", path(f), length(c), c
}
BEGIN {
	if (files == "") files = 5000
	if (commits == "") commits = 2000
	if (edits == "") edits = 2
	seed = 42
	made = 0
	t = 1700000000
	for (i = 1; i <= commits; i++) {
		msg = sprintf("commit %d of %d\n", i, commits)
		printf "commit refs/heads/main\nmark :%d\n", i
		printf "author Bench <bench@example.com> %d +0000\n", t + i * 60
		printf "committer Bench <bench@example.com> %d +0000\n", t + i * 60
		printf "data %d\n%s\n", length(msg), msg
		upto = int(i * files / commits)
		for (; made < upto; made++)
			blob(made, i)
		for (e = 0; e < edits && made > 0; e++)
			blob(rnd() % made, i)
		printf "\n"
	}
	printf "done\n"
}
