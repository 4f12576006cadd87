/**
 * @file fixture_main.c
 * @brief fixture_server: the course's local test server as a standalone program.
 *
 * Usage: fixture_server [--port N]. It prints the address it listens on and
 * serves until SIGINT (Ctrl-C) or SIGTERM, then stops cleanly.
 */
#include "cw_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
            return 2;
        }
    }
    /* Blocked here, the signals wait for sigwait(); the server thread inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    cw_fixture *fx = cw_fixture_start(port);
    if (fx == NULL)
        return 1;
    printf("fixture server listening on http://127.0.0.1:%d\n", cw_fixture_port(fx));
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    cw_fixture_stop(fx);
    printf("fixture server stopped\n");
    return 0;
}
