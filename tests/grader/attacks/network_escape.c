/* replaces: fetch_blocking */
/* expect: 0 graded should return 0 */
/* Attack: reach a machine outside the sandbox (a non-loopback address); print NETWORK-REACHED if a
 * socket connects. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int fetch_blocking(const char *url, fetch_result *out)
{
    (void)url;
    (void)out;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "10.0.0.1", &addr.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0)
        printf("NETWORK-REACHED\n");
    if (s >= 0)
        close(s);
    return CW_EFAILED;
}
