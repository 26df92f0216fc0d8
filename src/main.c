/* krate: server, client and demo in one binary. */
#include "server/serve.h"
#include "agents/example_agent.h"
#include "cli/cli.h"
#include "forge/hooks.h"

#include <stdio.h>
#include <string.h>

#define KRATE_VERSION_STRING "0.1.0"

static void usage(void)
{
	printf("krate %s: a Kubernetes-native software forge\n\n"
	       "usage: krate <command> [options]\n\n"
	       "server:\n"
	       "  serve        run the server (krate serve --help)\n"
	       "  example-agent  the example agent program (reads a prompt on stdin, writes JSON lines)\n\n",
	       KRATE_VERSION_STRING);
	cli_usage();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	/* The example agent program that demo agent stacks run (docs/agents.md). */
	if (!strcmp(argv[1], "example-agent"))
		return example_agent_main(argc - 1, argv + 1);
	/* Hidden: run by the repositories' push hooks, not by people. */
	if (!strcmp(argv[1], "git-hook"))
		return forge_hook_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("krate %s\n", KRATE_VERSION_STRING);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage();
		return 0;
	}
	if (cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1);
	fprintf(stderr, "krate: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
