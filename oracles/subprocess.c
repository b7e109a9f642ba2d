/* Child processes with limits: see subprocess.h. */
#include "subprocess.h"
#include "text_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Where coreutils' stdbuf keeps its preload library: with it the child's stdout is
 * line-buffered, so that what a child printed before it crashed reaches us. */
static const char *stdbuf_library(void) {
    static const char *const candidates[] = {"/usr/libexec/coreutils/libstdbuf.so",
                                             "/usr/lib/coreutils/libstdbuf.so"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], R_OK) == 0) return candidates[i];
    return NULL;
}

/* The child's environment: ours, with the stdbuf preload when present. Made before fork, since
 * between fork and exec the child may not allocate: in a sanitizer build the allocator maps
 * memory, which the child's address-space limit may refuse. NULL if memory ran out. */
static char **child_environment(void) {
    extern char **environ;
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 && strncmp(environ[i], "_STDBUF_O=", 10) != 0)
            env[k++] = environ[i];
    static char preload[128];
    const char *lib = stdbuf_library();
    if (lib) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
        env[k++] = preload;
        env[k++] = "_STDBUF_O=L";
    }
    env[k] = NULL;
    return env;
}

/* In the child, after fork: limits, pipes, exec. Never returns. */
static void child_exec(char *const argv[], char *const envp[], const subprocess_limits *limits,
                       int in_fd, int out_fd, int err_fd) {
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
    if (limits->memory_bytes) {
        struct rlimit rl = {limits->memory_bytes, limits->memory_bytes};
        setrlimit(RLIMIT_AS, &rl);
    }
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    execvpe(argv[0], argv, envp);
    _exit(127);
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

bool subprocess_run(char *const argv[], const uint8_t *input, size_t input_len,
                    const subprocess_limits *limits, subprocess_result *out, char *why,
                    size_t why_size) {
    memset(out, 0, sizeof *out);
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 ||
        pipe2(err_pipe, O_CLOEXEC) < 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&in_pipe[i]);
            close_fd(&out_pipe[i]);
            close_fd(&err_pipe[i]);
        }
        return false;
    }
    char **envp = child_environment();
    pid_t pid = envp ? fork() : -1;
    if (pid < 0) {
        snprintf(why, why_size, "fork: %s", envp ? strerror(errno) : "out of memory");
        free(envp);
        for (int i = 0; i < 2; i++) {
            close_fd(&in_pipe[i]);
            close_fd(&out_pipe[i]);
            close_fd(&err_pipe[i]);
        }
        return false;
    }
    if (pid == 0) child_exec(argv, envp, limits, in_pipe[0], out_pipe[1], err_pipe[1]);
    free(envp);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    /* Writing must not block forever or kill us when the child stops reading. */
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    void (*old_sigpipe)(int) = signal(SIGPIPE, SIG_IGN);

    text_buf bufs[2] = {{0}, {0}};
    bool oom = !text_buf_append(&bufs[0], "", 0) || !text_buf_append(&bufs[1], "", 0);
    size_t written = 0;
    if (!input || input_len == 0) close_fd(&in_pipe[1]);
    uint64_t start = now_ms(), last_output = start;
    subprocess_end end = SUBPROCESS_EXITED;
    bool killed = false;
    int fds[2] = {out_pipe[0], err_pipe[0]};
    while (!oom && (fds[0] >= 0 || fds[1] >= 0)) {
        struct pollfd pfd[3];
        int n = 0, which[3];
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0) continue;
            pfd[n] = (struct pollfd){fds[i], POLLIN, 0};
            which[n++] = i;
        }
        if (in_pipe[1] >= 0) {
            pfd[n] = (struct pollfd){in_pipe[1], POLLOUT, 0};
            which[n++] = 2;
        }
        uint64_t t = now_ms();
        if (!killed) {
            bool over_time = limits->time_ms && t - start >= limits->time_ms;
            bool idle = limits->idle_ms && t - last_output >= limits->idle_ms;
            bool over_output = limits->max_output && bufs[0].len + bufs[1].len > limits->max_output;
            if (over_time || idle || over_output) {
                kill(pid, SIGKILL);
                killed = true;
                end = over_output ? SUBPROCESS_TOO_MUCH_OUTPUT : SUBPROCESS_TIMED_OUT;
                close_fd(&in_pipe[1]);
            }
        }
        int rc = poll(pfd, (nfds_t)n, 100);
        if (rc < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < n; k++) {
            if (!pfd[k].revents) continue;
            if (which[k] == 2) {
                ssize_t w = write(in_pipe[1], input + written, input_len - written);
                if (w > 0) written += (size_t)w;
                if ((w < 0 && errno != EAGAIN) || written == input_len) close_fd(&in_pipe[1]);
                continue;
            }
            char chunk[65536];
            ssize_t r = read(fds[which[k]], chunk, sizeof chunk);
            if (r > 0) {
                last_output = now_ms();
                if (!killed && !text_buf_append(&bufs[which[k]], chunk, (size_t)r)) oom = true;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fds[which[k]]);
                fds[which[k]] = -1;
            }
        }
    }
    if (oom && !killed) kill(pid, SIGKILL);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) close(fds[i]);
    close_fd(&in_pipe[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    signal(SIGPIPE, old_sigpipe);
    if (oom) {
        free(bufs[0].data);
        free(bufs[1].data);
        snprintf(why, why_size, "out of memory collecting the output of %s", argv[0]);
        return false;
    }
    out->out = bufs[0].data;
    out->out_len = bufs[0].len;
    out->err = bufs[1].data;
    out->err_len = bufs[1].len;
    if (killed) {
        out->end = end;
        out->status = SIGKILL;
    } else if (WIFSIGNALED(status)) {
        out->end = SUBPROCESS_SIGNALED;
        out->status = WTERMSIG(status);
    } else {
        out->end = SUBPROCESS_EXITED;
        out->status = WEXITSTATUS(status);
        if (out->status == 127) {
            snprintf(why, why_size, "cannot run %s", argv[0]);
            subprocess_result_free(out);
            return false;
        }
    }
    return true;
}

void subprocess_result_free(subprocess_result *result) {
    free(result->out);
    free(result->err);
    memset(result, 0, sizeof *result);
}

bool subprocess_tool_works(const char *tool, const char *needs, char *why, size_t why_size) {
    char *argv[] = {(char *)tool, "--version", NULL};
    subprocess_limits limits = {.time_ms = 10000};
    subprocess_result res;
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, why_size)) return false;
    bool works = res.end == SUBPROCESS_EXITED && res.status == 0;
    subprocess_result_free(&res);
    if (!works) snprintf(why, why_size, "%s --version failed (is %s installed?)", tool, needs);
    return works;
}
