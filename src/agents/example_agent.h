/* `krate example-agent`: the shipped example of the agent program contract
 * (docs/agents.md): reads the rendered prompt on stdin, writes JSON-lines
 * events on stdout, and appends a note to NOTES.md in its working directory
 * (the workspace), so a run of it ends with a patch artifact. */
#ifndef KRATE_AGENTS_EXAMPLE_AGENT_H
#define KRATE_AGENTS_EXAMPLE_AGENT_H

/* argv[0] is "example-agent". Returns the process exit code. */
int example_agent_main(int argc, char **argv);

#endif
