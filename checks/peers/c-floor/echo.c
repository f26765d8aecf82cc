/*
 * The physical floor of a Lambda function process: GET /next and POST /response over one
 * blocking keep-alive socket, echoing the event's bytes with no JSON parsing, no allocator
 * and no runtime. `faas-check bench` shows it as the limit row (checks/bench.sh builds it
 * with `musl-gcc -static`). Not a runtime: it reads only Content-Length and the request id,
 * and exits 1 with a message on anything it does not expect.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENT (6 * 1024 * 1024)
#define MAX_HEAD 16384

static char head[MAX_HEAD + 1];
static char body[MAX_EVENT];
static int fd = -1;

static void die(const char *what) {
    fprintf(stderr, "c-floor: %s\n", what);
    exit(1);
}

static void send_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) die("write to the Runtime API failed");
        p += w;
        n -= (size_t)w;
    }
}

/* Bytes read past the end of the head, the start of the body. */
static size_t spill;

/* Reads one response head into `head` (NUL-terminated); returns its length. */
static size_t read_head(void) {
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, head + have, MAX_HEAD - have);
        if (r <= 0) die("the Runtime API closed the connection");
        have += (size_t)r;
        head[have] = 0;
        char *end = strstr(head, "\r\n\r\n");
        if (end) {
            size_t len = (size_t)(end - head) + 4;
            spill = have - len;
            if (spill > MAX_EVENT) die("response too large");
            memcpy(body, head + len, spill);
            head[len] = 0;
            return len;
        }
        if (have == MAX_HEAD) die("response head too large");
    }
}

/* The value of header `name` (with its colon) in `head`, or NULL. */
static char *header(const char *name, size_t *len) {
    size_t n = strlen(name);
    for (char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
        char *start = line + 2;
        if (strncasecmp(start, name, n) == 0) {
            start += n;
            while (*start == ' ') start++;
            char *stop = strstr(start, "\r\n");
            *len = (size_t)(stop - start);
            return start;
        }
    }
    return NULL;
}

/* Reads the response's body (Content-Length bytes) into `body`; returns its length. */
static size_t read_body(void) {
    size_t len = 0, n = 0;
    char *value = header("content-length:", &len);
    if (!value) die("a response without Content-Length");
    for (size_t i = 0; i < len && value[i] >= '0' && value[i] <= '9'; i++) n = n * 10 + (size_t)(value[i] - '0');
    if (n > MAX_EVENT) die("event too large");
    size_t have = spill < n ? spill : n;
    while (have < n) {
        ssize_t r = read(fd, body + have, n - have);
        if (r <= 0) die("the Runtime API closed the connection");
        have += (size_t)r;
    }
    return n;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) die("AWS_LAMBDA_RUNTIME_API is unset");
    char host[64];
    const char *colon = strrchr(api, ':');
    if (!colon || (size_t)(colon - api) >= sizeof host) die("AWS_LAMBDA_RUNTIME_API is not IPV4:PORT");
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("AWS_LAMBDA_RUNTIME_API is not IPV4:PORT");
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("cannot connect to the Runtime API");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: api\r\n\r\n";
    char request[256];
    for (;;) {
        send_all(next, sizeof next - 1);
        read_head();
        if (strncmp(head, "HTTP/1.1 200", 12) != 0) die("GET /next did not answer 200");
        size_t id_len = 0;
        char *id = header("lambda-runtime-aws-request-id:", &id_len);
        if (!id || id_len > 100) die("GET /next without a usable request id");
        size_t n = read_body();
        int len = snprintf(request, sizeof request,
                           "POST /2018-06-01/runtime/invocation/%.*s/response HTTP/1.1\r\n"
                           "Host: api\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                           (int)id_len, id, n);
        send_all(request, (size_t)len);
        send_all(body, n);
        read_head();
        if (strncmp(head, "HTTP/1.1 202", 12) != 0) die("POST /response was not accepted");
        read_body();
    }
}
