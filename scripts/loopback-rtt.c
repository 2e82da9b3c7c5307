// Round trips over loopback TCP, the floor under `book` 1 × 1 (docs/BENCHMARKS.md §4, §5;
// the runs: docs/BENCHMARKS-HISTORY.md, Seventh session).
//
//   cc -O2 -o /tmp/loopback-rtt scripts/loopback-rtt.c
//   /tmp/loopback-rtt echo PORT &        a C echo server: epoll, one connection at a time
//   /tmp/loopback-rtt ping PORT N        N round trips of a 12-byte PING frame, after a HELLO
//
// `ping` speaks just enough of the protocol for appointmentd (HELLO, then PING frames, each
// answered by a PONG that the server's reader queues for its writer without starting a call);
// against `echo` the same bytes come straight back. It prints p50, p90 and p99 in µs.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void read_exactly(int fd, unsigned char *buffer, int count) {
  for (int got = 0; got < count;) {
    ssize_t n = read(fd, buffer + got, count - got);
    if (n <= 0) { perror("read"); exit(1); }
    got += n;
  }
}

static void read_frame(int fd) {
  unsigned char length[4], body[65536];
  read_exactly(fd, length, 4);
  unsigned size = (unsigned)length[0] << 24 | length[1] << 16 | length[2] << 8 | length[3];
  if (size > sizeof body) { fprintf(stderr, "frame of %u bytes\n", size); exit(1); }
  read_exactly(fd, body, (int)size);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

static int echo(int port) {
  int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = loopback(port);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 8)) { perror("listen"); return 1; }
  int poller = epoll_create1(0);
  for (;;) {
    int connection = accept(listener, NULL, NULL);
    setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = connection};
    epoll_ctl(poller, EPOLL_CTL_ADD, connection, &event);
    unsigned char buffer[65536];
    for (;;) {
      epoll_wait(poller, &event, 1, -1);
      ssize_t n = read(connection, buffer, sizeof buffer);
      if (n <= 0 || write(connection, buffer, n) != n) break;
    }
    close(connection);
  }
}

static int ping(int port, int count) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in address = loopback(port);
  if (connect(fd, (struct sockaddr *)&address, sizeof address)) { perror("connect"); return 1; }
  // PROTOCOL.md §7 (A): HELLO, protocol 1, agent "example-client/1.0".
  static const unsigned char hello[] = {
    0, 0, 0, 0x28, 1, 0, 0, 0x20, 0, 0, 0, 0, 0x08, 0x01, 0x10, 0x80, 0x80, 0x40, 0x18, 0x80, 0x80, 0x01,
    0x20, 0x40, 0x2a, 0x12, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '-', 'c', 'l', 'i', 'e', 'n', 't', '/', '1', '.', '0'};
  static const unsigned char frame[12] = {0, 0, 0, 8, 5, 0, 0, 0, 0, 0, 0, 0};  // PING, empty header
  if (write(fd, hello, sizeof hello) != sizeof hello) { perror("write"); return 1; }
  read_frame(fd);
  double *micros = malloc(sizeof(double) * count);
  for (int i = 0; i < count; i++) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (write(fd, frame, sizeof frame) != sizeof frame) { perror("write"); return 1; }
    read_frame(fd);
    clock_gettime(CLOCK_MONOTONIC, &end);
    micros[i] = (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3;
  }
  qsort(micros, count, sizeof(double), compare);
  printf("%d round trips: p50 %.1f µs, p90 %.1f µs, p99 %.1f µs\n", count, micros[count / 2], micros[count * 9 / 10],
         micros[count * 99 / 100]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "echo") == 0) return echo(atoi(argv[2]));
  if (argc == 4 && strcmp(argv[1], "ping") == 0 && atoi(argv[3]) > 0) return ping(atoi(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: %s echo PORT | %s ping PORT COUNT\n", argv[0], argv[0]);
  return 2;
}
