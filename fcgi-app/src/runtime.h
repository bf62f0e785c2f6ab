#ifndef HELLO_RUNTIME_H_
#define HELLO_RUNTIME_H_

#include <stddef.h>

#include "app.h"

/* Start-up: everything the master prepares before it forks. As the user the process started as,
 * it reads the nginx template and gives up root; then it makes the private runtime directory
 * under RUNTIME_DIR, one listening Unix socket per worker in it, and nginx.conf rendered from the
 * template. The master (master.h) supervises what runs on top of it. */

/* Raises the open-file limit to its hard limit, reads NGINX_TEMPLATE, then, when started as root,
 * runs the process as nobody (so nginx never switches users and every process can reach the
 * sockets). Returns the template text (free it), or NULL with a log line. */
char *hello_runtime_prepare(const hello_app *app);

/* Creates app->run_dir, a listening socket per worker (app->listen_fds) and nginx.conf rendered
 * from tpl, whose path goes to conf_path (conf_path_size bytes). Returns 0, or -1 with a log line;
 * either way hello_runtime_close undoes what was made. */
int hello_runtime_open(hello_app *app, const char *tpl, char *conf_path, size_t conf_path_size);

/* (Re)creates worker index's listening socket on its fixed path, so a restarted worker accepts
 * where nginx connects. Returns 0, or -1 with a log line. */
int hello_runtime_open_socket(hello_app *app, int index);

/* Closes worker index's socket (a dead worker's), so nginx's connects fail at once and go to the
 * next worker instead of waiting in a backlog nobody accepts from. */
void hello_runtime_close_socket(hello_app *app, int index);

/* Closes every socket and removes the runtime directory with what it holds. */
void hello_runtime_close(hello_app *app);

#endif /* HELLO_RUNTIME_H_ */
