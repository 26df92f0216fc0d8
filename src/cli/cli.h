/* The kubectl-like client commands of the `krate` binary. Every command talks
 * to a Krate server over HTTP; none touches the data directory. */
#ifndef KRATE_CLI_H
#define KRATE_CLI_H

/* Runs a client command: argv[0] is the command name ("apply", "get", "delete",
 * "watch", "token", "user", "repo", "pr", "issue", "audit", "login", "kinds", "whoami").
 * Returns the process exit code (0 ok, 1 the server refused or failed, 2 usage error). */
int cli_main(int argc, char **argv);
/* 1 if name is a client command cli_main handles. */
int cli_is_command(const char *name);
/* Prints the client commands' usage to stdout. */
void cli_usage(void);

#endif
