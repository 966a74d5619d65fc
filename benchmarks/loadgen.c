/* The benchmark's load generator and its ceiling server, built by the benchmark with gcc.
 *
 *   loadgen load PORT TOTAL CONCURRENCY [REQUEST_FILE [EXPECT_BYTES]]
 *       Keep CONCURRENCY connections open to 127.0.0.1:PORT until TOTAL exchanges are done.
 *       Each exchange sends the request (if any), then reads to EOF. An exchange counts as a
 *       poem only if it ends with a clean close after at least one byte (and, if EXPECT_BYTES is
 *       given and not 0, exactly that many); anything else (refused, reset, short, timeout) is a
 *       failure. Prints one JSON line: exchanges, failures, resets, short, bytes, seconds.
 *   loadgen slow PORT CLIENTS RAMP_SECONDS HOLD_SECONDS CHUNK DELAY
 *       Open CLIENTS connections spread over RAMP_SECONDS and read what a slow server sends,
 *       CHUNK bytes every DELAY seconds. Prints "connected N" once the last is open, then, after
 *       HOLD_SECONDS more, one JSON line: how late each read is against its connection's
 *       schedule (the first read at t0, the chunk ending a read due at t0 + k * DELAY), as
 *       p50/p99/max in ms, the reads counted, and connections that failed or ended early.
 *   loadgen serve POEM_FILE
 *       A blocking one-thread server: accept, write the poem, close. Prints
 *       "listening on 127.0.0.1:PORT". The fastest a server can be here, for reference.
 *
 * One thread, epoll, non-blocking sockets: the point is to cost the machine far less than the
 * servers it loads, so that what is measured is the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 30.0

static char *request;
static size_t request_len;

struct conn {
    int fd;
    size_t sent;
    size_t received;
    double started;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    struct stat st;
    fstat(fileno(f), &st);
    char *data = malloc(st.st_size + 1);
    *len = fread(data, 1, st.st_size, f);
    fclose(f);
    return data;
}

static struct sockaddr_in target;

static int open_conn(int ep, struct conn *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int r = connect(fd, (struct sockaddr *)&target, sizeof target);
    if (r < 0 && errno != EINPROGRESS) { close(fd); return -1; }
    c->fd = fd; c->sent = 0; c->received = 0; c->started = now();
    struct epoll_event ev = {.events = EPOLLIN | (request_len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

static int load(int argc, char **argv) {
    int port = atoi(argv[2]);
    long total = atol(argv[3]);
    int concurrency = atoi(argv[4]);
    long expect = 0;
    if (argc > 5 && argv[5][0]) request = slurp(argv[5], &request_len);
    if (argc > 6) expect = atol(argv[6]);
    if (concurrency > total) concurrency = (int)total;
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);

    int ep = epoll_create1(0);
    struct conn *conns = calloc(concurrency, sizeof *conns);
    struct epoll_event *events = calloc(concurrency, sizeof *events);
    static char buf[1 << 16];
    long started = 0, done = 0, failures = 0, resets = 0, shorts = 0;
    long long bytes = 0;
    double began = now();
    for (int i = 0; i < concurrency; i++) {
        conns[i].fd = -1;
        while (started < total) {
            started++;
            if (open_conn(ep, &conns[i]) == 0) break;
            failures++; done++;
        }
    }
    while (done < total) {
        int n = epoll_wait(ep, events, concurrency, 1000);
        for (int k = 0; k < n; k++) {
            struct conn *c = events[k].data.ptr;
            int finished = 0, ok = 0;
            if (c->sent < request_len && (events[k].events & EPOLLOUT)) {
                ssize_t w = write(c->fd, request + c->sent, request_len - c->sent);
                if (w > 0) c->sent += w;
                else if (w < 0 && errno != EAGAIN) finished = 1;
                if (c->sent == request_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!finished && (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                for (;;) {
                    ssize_t r = read(c->fd, buf, sizeof buf);
                    if (r > 0) { c->received += r; continue; }
                    if (r == 0) {
                        finished = 1;
                        ok = c->received > 0 && (expect == 0 || (long)c->received == expect);
                        if (!ok) shorts++;
                    } else if (errno != EAGAIN) {
                        finished = 1;
                        if (errno == ECONNRESET) resets++;
                    }
                    break;
                }
            }
            if (finished) {
                close(c->fd);
                c->fd = -1;
                done++;
                bytes += c->received;
                if (!ok) failures++;
                while (started < total) {
                    started++;
                    if (open_conn(ep, c) == 0) break;
                    failures++; done++;
                }
            }
        }
        if (now() - began > TIMEOUT_SECONDS * 10) break;
        if (n == 0) {
            /* Nothing moved for a second: abandon connections older than the timeout. */
            double t = now();
            for (int i = 0; i < concurrency; i++) {
                struct conn *c = &conns[i];
                if (c->fd >= 0 && t - c->started > TIMEOUT_SECONDS) {
                    close(c->fd);
                    c->fd = -1;
                    done++; failures++;
                    while (started < total) {
                        started++;
                        if (open_conn(ep, c) == 0) break;
                        failures++; done++;
                    }
                }
            }
        }
    }
    double seconds = now() - began;
    failures += total - done;
    printf("{\"exchanges\": %ld, \"failures\": %ld, \"resets\": %ld, \"short\": %ld,"
           " \"bytes\": %lld, \"seconds\": %.6f}\n",
           total, failures, resets, shorts, bytes, seconds);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct slow_conn {
    int fd;
    long received;
    double first;
};

static int slow(char **argv) {
    int port = atoi(argv[2]);
    int clients = atoi(argv[3]);
    double ramp = atof(argv[4]), hold = atof(argv[5]);
    long chunk = atol(argv[6]);
    double delay = atof(argv[7]);
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
    int ep = epoll_create1(0);
    struct slow_conn *conns = calloc(clients, sizeof *conns);
    struct epoll_event *events = calloc(clients, sizeof *events);
    size_t cap = 1 << 20, n_late = 0;
    double *late = malloc(cap * sizeof *late);
    static char buf[1 << 16];
    int opened = 0, failures = 0, announced = 0;
    double began = now(), all_open = 0;
    for (;;) {
        double t = now();
        while (opened < clients && (ramp <= 0 || t - began >= ramp * opened / clients)) {
            struct slow_conn *c = &conns[opened++];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            c->first = 0;
            if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0
                              && errno != EINPROGRESS)) {
                failures++;
                if (c->fd >= 0) close(c->fd);
                c->fd = -1;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        }
        if (opened == clients && !announced) {
            announced = 1;
            all_open = now();
            printf("connected %d\n", clients - failures);
            fflush(stdout);
        }
        if (announced && now() - all_open >= hold) break;
        int n = epoll_wait(ep, events, clients, 1);
        for (int k = 0; k < n; k++) {
            struct slow_conn *c = events[k].data.ptr;
            ssize_t r = read(c->fd, buf, sizeof buf);
            double at = now();
            if (r > 0) {
                if (c->first == 0) c->first = at;
                c->received += r;
                double due = c->first + ((c->received - 1) / chunk) * delay;
                if (n_late == cap) late = realloc(late, (cap *= 2) * sizeof *late);
                late[n_late++] = at - due;
            } else if (r == 0 || errno != EAGAIN) {
                failures++;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
            }
        }
    }
    qsort(late, n_late, sizeof *late, cmp_double);
    double p50 = n_late ? late[n_late / 2] : 0, p99 = n_late ? late[(size_t)(n_late * 0.99)] : 0;
    double max = n_late ? late[n_late - 1] : 0;
    printf("{\"clients\": %d, \"failures\": %d, \"reads\": %zu, \"p50_ms\": %.3f,"
           " \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
           clients, failures, n_late, p50 * 1000, p99 * 1000, max * 1000);
    return 0;
}

static int serve(char **argv) {
    size_t len;
    char *poem = slurp(argv[2], &len);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) || listen(s, 4096)) { perror("listen"); return 1; }
    socklen_t alen = sizeof addr;
    getsockname(s, (struct sockaddr *)&addr, &alen);
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(c, poem + off, len - off);
            if (w <= 0) break;
            off += w;
        }
        close(c);
    }
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "load") == 0) return load(argc, argv);
    if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(argv);
    if (argc == 8 && strcmp(argv[1], "slow") == 0) return slow(argv);
    fprintf(stderr, "usage: loadgen load PORT TOTAL CONCURRENCY [REQUEST_FILE [EXPECT]]\n"
                    "       loadgen slow PORT CLIENTS RAMP HOLD CHUNK DELAY\n"
                    "       loadgen serve POEM_FILE\n");
    return 2;
}
