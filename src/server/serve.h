/* `krate serve`: the server process (store, API, HTTP) and its lifecycle. */
#ifndef KRATE_SERVE_H
#define KRATE_SERVE_H

/* argv[0] is "serve". Returns the process exit code. */
int serve_main(int argc, char **argv);
void serve_usage(void);

#endif
