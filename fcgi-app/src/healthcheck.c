#include "healthcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 3

int hello_healthcheck(const hello_config *cfg)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    struct timeval tv = {.tv_sec = TIMEOUT_SECONDS};
    const char *host = strcmp(cfg->listen_address, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->listen_address;
    static const char request[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hello-healthcheck\r\n"
                                  "Connection: close\r\n\r\n";
    char reply[64];
    size_t got = 0;
    int fd, status = 0;

    inet_pton(AF_INET, host, &addr.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) goto fail;
    if (write(fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) goto fail;
    while (got < sizeof reply - 1) {
        ssize_t n = read(fd, reply + got, sizeof reply - 1 - got);

        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    reply[got] = '\0';
    close(fd);
    if (sscanf(reply, "HTTP/1.%*c %d", &status) == 1 && status == 200) return 0;
    fprintf(stderr, "healthcheck: GET http://%s:%d/healthz answered %d\n", host, cfg->port, status);
    return 1;
fail:
    fprintf(stderr, "healthcheck: GET http://%s:%d/healthz failed: %s\n", host, cfg->port, strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
}
