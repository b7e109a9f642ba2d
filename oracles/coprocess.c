/* Long-lived child processes: see coprocess.h. */
#include "coprocess.h"
#include "text_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* In the child, after fork: pipes, no core dumps, exec. Never returns; a failed exec writes its
 * errno to report_fd (close-on-exec, so a successful exec closes it unwritten). */
static void child_exec(char *const argv[], int in_fd, int out_fd, int err_fd, int report_fd) {
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    int err = errno;
    ssize_t ignored = write(report_fd, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

bool coprocess_start(coprocess *cp, char *const argv[], char *why, size_t why_size) {
    memset(cp, 0, sizeof *cp);
    cp->in_fd = cp->out_fd = cp->err_fd = -1;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
        pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
        pipe2(report, O_CLOEXEC) != 0) {
        snprintf(why, why_size, "cannot make pipes: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&in[i]);
            close_fd(&out[i]);
            close_fd(&err[i]);
            close_fd(&report[i]);
        }
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) child_exec(argv, in[1], out[1], err[1], report[1]);
    close_fd(&in[1]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    close_fd(&report[1]);
    if (pid < 0) {
        snprintf(why, why_size, "cannot fork: %s", strerror(errno));
        close_fd(&in[0]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        close_fd(&report[0]);
        return false;
    }
    int exec_errno = 0;
    ssize_t got;
    do got = read(report[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close_fd(&report[0]);
    cp->pid = pid;
    cp->in_fd = in[0];
    cp->out_fd = out[0];
    cp->err_fd = err[0];
    if (got > 0) {
        snprintf(why, why_size, "cannot run %s: %s", argv[0], strerror(exec_errno));
        coprocess_stop(cp);
        return false;
    }
    fcntl(cp->in_fd, F_SETFL, fcntl(cp->in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(cp->err_fd, F_SETFL, fcntl(cp->err_fd, F_GETFL) | O_NONBLOCK);
    return true;
}

void coprocess_stop(coprocess *cp) {
    if (cp->pid > 0) {
        kill(cp->pid, SIGKILL);
        while (waitpid(cp->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    cp->pid = 0;
    close_fd(&cp->in_fd);
    close_fd(&cp->out_fd);
    close_fd(&cp->err_fd);
}

/* Keeps the last bytes of the child's stderr. */
static void keep_err(coprocess *cp, const char *bytes, size_t n) {
    size_t cap = sizeof cp->err_tail - 1;
    if (n >= cap) {
        memcpy(cp->err_tail, bytes + n - cap, cap);
        cp->err_len = cap;
    } else {
        if (cp->err_len + n > cap) {
            size_t drop = cp->err_len + n - cap;
            memmove(cp->err_tail, cp->err_tail + drop, cp->err_len - drop);
            cp->err_len -= drop;
        }
        memcpy(cp->err_tail + cp->err_len, bytes, n);
        cp->err_len += n;
    }
    cp->err_tail[cp->err_len] = '\0';
}

/* Looks for end_line among the complete lines from *scan on; on finding it sets *end_at to its
 * start. Advances *scan past the complete lines looked at. */
static bool find_end_line(const text_buf *buf, size_t *scan, const char *end_line,
                          size_t *end_at) {
    size_t end_len = strlen(end_line);
    while (*scan < buf->len) {
        const char *nl = memchr(buf->data + *scan, '\n', buf->len - *scan);
        if (!nl) return false;
        size_t line_len = (size_t)(nl - (buf->data + *scan));
        if (line_len == end_len && memcmp(buf->data + *scan, end_line, end_len) == 0) {
            *end_at = *scan;
            return true;
        }
        *scan += line_len + 1;
    }
    return false;
}

/* The child is gone or going: reaps it, giving it a moment to exit on its own. */
static int reap(coprocess *cp) {
    int status = 0;
    for (int tries = 0; tries < 100; tries++) {
        pid_t got = waitpid(cp->pid, &status, WNOHANG);
        if (got == cp->pid) {
            cp->pid = 0;
            coprocess_stop(cp);
            return status;
        }
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    kill(cp->pid, SIGKILL);
    while (waitpid(cp->pid, &status, 0) < 0 && errno == EINTR) {
    }
    cp->pid = 0;
    coprocess_stop(cp);
    return status;
}

bool coprocess_exchange(coprocess *cp, const uint8_t *request, size_t request_len,
                        const char *end_line, unsigned time_ms, coprocess_reply *reply,
                        char *why, size_t why_size) {
    memset(reply, 0, sizeof *reply);
    cp->err_len = 0;
    cp->err_tail[0] = '\0';
    uint64_t deadline = now_ms() + time_ms;
    text_buf buf = {0};
    size_t sent = 0, scan = 0, end_at = 0;
    bool out_open = true, err_open = true;
    for (;;) {
        if (find_end_line(&buf, &scan, end_line, &end_at)) {
            reply->end = COPROCESS_REPLIED;
            buf.len = end_at;
            break;
        }
        if (!out_open) {
            reply->end = COPROCESS_DIED;
            reply->status = reap(cp);
            buf.len = scan; /* complete lines only */
            break;
        }
        uint64_t now = now_ms();
        if (now >= deadline) {
            reply->end = COPROCESS_TIMED_OUT;
            coprocess_stop(cp);
            buf.len = scan;
            break;
        }
        struct pollfd fds[3] = {{cp->out_fd, POLLIN, 0}, {err_open ? cp->err_fd : -1, POLLIN, 0},
                                {sent < request_len ? cp->in_fd : -1, POLLOUT, 0}};
        int ready = poll(fds, 3, (int)(deadline - now));
        if (ready < 0) {
            if (errno == EINTR) continue;
            snprintf(why, why_size, "poll: %s", strerror(errno));
            coprocess_stop(cp);
            free(buf.data);
            return false;
        }
        char chunk[65536];
        if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t n = send(cp->in_fd, request + sent, request_len - sent, MSG_NOSIGNAL);
            if (n > 0) sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR) sent = request_len; /* it died */
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(cp->err_fd, chunk, sizeof chunk);
            if (n > 0) keep_err(cp, chunk, (size_t)n);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN)) err_open = false;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(cp->out_fd, chunk, sizeof chunk);
            if (n > 0) {
                if (!text_buf_append(&buf, chunk, (size_t)n)) {
                    snprintf(why, why_size, "out of memory");
                    coprocess_stop(cp);
                    free(buf.data);
                    return false;
                }
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                out_open = false;
                /* What it wrote to stderr on its way out says why it died. */
                ssize_t e;
                while ((e = read(cp->err_fd, chunk, sizeof chunk)) > 0) keep_err(cp, chunk, (size_t)e);
            }
        }
    }
    if (!buf.data && !text_buf_append(&buf, "", 0)) {
        snprintf(why, why_size, "out of memory");
        coprocess_stop(cp);
        return false;
    }
    buf.data[buf.len] = '\0';
    reply->text = buf.data;
    reply->len = buf.len;
    return true;
}
