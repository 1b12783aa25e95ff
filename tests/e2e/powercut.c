/* A power cut for the box's processes: an LD_PRELOAD library that keeps an undo log of every change
 * to the files under one directory (PCUT_ROOT) since that change was made durable, so that after the
 * processes are killed the test can put the directory back as a disk holds it after a power loss
 * (tests/e2e/powercut.py rolls the log back).
 *
 * What is durable is what POSIX promises: the data and size of a file once fsync(2) or fdatasync(2)
 * of it returned; a new, renamed or removed directory entry once fsync(2) of its directory returned
 * (rename(2), unlink(2), open(2) with O_CREAT and mkdir(2) change only the directory). Everything
 * else may be lost. The log is written before each write, so a write cut short is rolled back too.
 *
 * PCUT_CUT_AT=N kills the whole process group with SIGKILL at the Nth write under the root: the
 * processes and the page cache go at once, at a point of the write stream rather than of time.
 * The SQLite shared-memory index (*-shm) is left alone: SQLite rebuilds it from the WAL at the first
 * open after a crash (it is not a durable file, https://sqlite.org/walformat.html#shm).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { K_DATA = 1, K_SYNC = 2, K_CREATE = 3, K_RENAME = 4, K_UNLINK = 5, K_MKDIR = 6 };
#define MAX_FD 65536

struct rec {                 /* followed by path1, path2, path3 and the old bytes */
    uint32_t magic, kind;
    uint64_t ino, offset, length;
    int64_t old_size;
    uint32_t n1, n2, n3, nd;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char root[PATH_MAX];
static size_t root_len;
static char *paths[MAX_FD];          /* fd -> absolute path, for the files under the root */
static int readers[MAX_FD];          /* fd -> a read-only fd on the same file (+1; 0: none yet) */
static int log_fd = -1;
static long long writes, cut_at = -1, backups;
static int ready;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_mkdir)(const char *, mode_t);
static int (*real_mkdirat)(int, const char *, mode_t);

static void setup(void) {
    if (ready) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_close = dlsym(RTLD_NEXT, "close");
    real_rename = dlsym(RTLD_NEXT, "rename");
    real_renameat = dlsym(RTLD_NEXT, "renameat");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real_mkdir = dlsym(RTLD_NEXT, "mkdir");
    real_mkdirat = dlsym(RTLD_NEXT, "mkdirat");
    const char *r = getenv("PCUT_ROOT"), *l = getenv("PCUT_LOG"), *c = getenv("PCUT_CUT_AT");
    if (r && l) {
        /* The root may not exist yet (a first start makes it): then it is taken as given, absolute. */
        if (!realpath(r, root)) snprintf(root, sizeof root, "%s", r);
        root_len = strlen(root);
        log_fd = real_open(l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }
    if (c) cut_at = atoll(c);
    ready = 1;
}

/* A child forked while another thread holds the lock would wait for it for ever (its close() of
 * inherited descriptors before exec takes it): the lock is held across fork and released on both sides. */
static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_done(void) { pthread_mutex_unlock(&lock); }

__attribute__((constructor)) static void init(void) {
    setup();
    pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* The absolute path of `path` as seen from `dirfd`, its directory resolved; 0 if outside the root. */
static int resolve(int dirfd, const char *path, char *out) {
    char raw[PATH_MAX], dir[PATH_MAX];
    if (log_fd < 0 || !path) return 0;
    if (path[0] == '/') {
        snprintf(raw, sizeof raw, "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base)) return 0;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n < 0) return 0;
            base[n] = 0;
        }
        snprintf(raw, sizeof raw, "%s/%s", base, path);
    }
    char *slash = strrchr(raw, '/');
    const char *name = slash + 1;
    if (slash == raw) snprintf(dir, sizeof dir, "/");
    else {
        *slash = 0;
        if (!realpath(raw, dir)) return 0;
    }
    if (!*name || !strcmp(name, ".")) snprintf(out, PATH_MAX, "%s", dir);
    else snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
    size_t n = strlen(out);
    if (strncmp(out, root, root_len) || (out[root_len] && out[root_len] != '/')) return 0;
    if (n > 4 && !strcmp(out + n - 4, "-shm")) return 0;
    return 1;
}

static void emit(uint32_t kind, uint64_t ino, uint64_t offset, uint64_t length, int64_t old_size,
                 const char *p1, const char *p2, const char *p3, const void *data, uint32_t nd) {
    struct rec h = {0x54554350, kind, ino, offset, length, old_size, p1 ? strlen(p1) : 0, p2 ? strlen(p2) : 0,
                    p3 ? strlen(p3) : 0, nd};
    size_t total = sizeof h + h.n1 + h.n2 + h.n3 + nd;
    char *buf = malloc(total), *at = buf;
    if (!buf) abort();
    memcpy(at, &h, sizeof h); at += sizeof h;
    memcpy(at, p1, h.n1); at += h.n1;
    memcpy(at, p2, h.n2); at += h.n2;
    memcpy(at, p3, h.n3); at += h.n3;
    memcpy(at, data, nd);
    /* One write with O_APPEND: the records of every process stay whole and in order. */
    if (real_write(log_fd, buf, total) != (ssize_t)total) abort();
    free(buf);
}

static void track(int fd, const char *abs) {
    if (fd < 0 || fd >= MAX_FD) return;
    free(paths[fd]);
    paths[fd] = strdup(abs);
    if (readers[fd]) real_close(readers[fd] - 1);
    readers[fd] = 0;
}

static int reader(int fd) {
    if (!readers[fd]) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        int r = real_open(link, O_RDONLY | O_CLOEXEC);
        if (r < 0) return -1;
        readers[fd] = r + 1;
    }
    return readers[fd] - 1;
}

/* The old bytes of [offset, offset+n) of tracked `fd` into the log; then, at the chosen write, the cut. */
static void before_write(int fd, off_t offset, size_t n, int appending) {
    struct stat st;
    if (fd < 0 || fd >= MAX_FD || !paths[fd] || fstat(fd, &st) || !S_ISREG(st.st_mode)) return;
    if (appending) offset = st.st_size;
    char *old = malloc(n ? n : 1);
    ssize_t got = 0;
    int r = reader(fd);
    if (r >= 0 && offset < st.st_size) got = pread(r, old, n, offset);
    if (got < 0) got = 0;
    emit(K_DATA, st.st_ino, offset, n, st.st_size, paths[fd], NULL, NULL, old, got);
    free(old);
    if (++writes == cut_at) kill(0, SIGKILL);
}

static int opened(int dirfd, const char *path, int flags, mode_t mode, int at) {
    setup();
    char abs[PATH_MAX];
    if (!resolve(dirfd, path, abs))
        return at ? real_openat(dirfd, path, flags, mode) : real_open(path, flags, mode);
    pthread_mutex_lock(&lock);
    struct stat st;
    int existed = stat(abs, &st) == 0;
    char *old = NULL;
    ssize_t got = 0;
    if (existed && (flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size > 0) {
        int r = real_open(abs, O_RDONLY | O_CLOEXEC);
        old = malloc(st.st_size);
        if (r >= 0) { got = pread(r, old, st.st_size, 0); real_close(r); }
        if (got < 0) got = 0;
    }
    int fd = at ? real_openat(dirfd, path, flags, mode) : real_open(path, flags, mode);
    int saved = errno;
    if (fd >= 0) {
        track(fd, abs);
        if (!existed && (flags & O_CREAT)) emit(K_CREATE, 0, 0, 0, 0, abs, NULL, NULL, NULL, 0);
        else if (old) emit(K_DATA, st.st_ino, 0, st.st_size, st.st_size, abs, NULL, NULL, old, got);
    }
    free(old);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return fd;
}

#define MODE_ARG(flags) \
    mode_t mode = 0; \
    if ((flags) & (O_CREAT | __O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, int); va_end(ap); }

int open(const char *path, int flags, ...) { MODE_ARG(flags); return opened(AT_FDCWD, path, flags, mode, 0); }
int open64(const char *path, int flags, ...) { MODE_ARG(flags); return opened(AT_FDCWD, path, flags, mode, 0); }
int openat(int d, const char *path, int flags, ...) { MODE_ARG(flags); return opened(d, path, flags, mode, 1); }
int openat64(int d, const char *path, int flags, ...) { MODE_ARG(flags); return opened(d, path, flags, mode, 1); }
int __open_2(const char *path, int flags) { return opened(AT_FDCWD, path, flags, 0, 0); }
int __open64_2(const char *path, int flags) { return opened(AT_FDCWD, path, flags, 0, 0); }

ssize_t write(int fd, const void *buf, size_t n) {
    setup();
    if (fd >= 0 && fd < MAX_FD && paths[fd] && n) {
        pthread_mutex_lock(&lock);
        before_write(fd, lseek(fd, 0, SEEK_CUR), n, fcntl(fd, F_GETFL) & O_APPEND);
        pthread_mutex_unlock(&lock);
    }
    return real_write(fd, buf, n);
}

static ssize_t pwritten(int fd, const void *buf, size_t n, off_t offset) {
    setup();
    if (fd >= 0 && fd < MAX_FD && paths[fd] && n) {
        pthread_mutex_lock(&lock);
        before_write(fd, offset, n, 0);
        pthread_mutex_unlock(&lock);
    }
    return real_pwrite(fd, buf, n, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) { return pwritten(fd, buf, n, offset); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t offset) { return pwritten(fd, buf, n, offset); }

static int truncated(int fd, off_t length) {
    setup();
    struct stat st;
    if (fd >= 0 && fd < MAX_FD && paths[fd] && !fstat(fd, &st) && S_ISREG(st.st_mode) && length != st.st_size) {
        pthread_mutex_lock(&lock);
        /* As a write of the bytes from `length` on: their old content, or none when the file grows. */
        before_write(fd, length, length < st.st_size ? (size_t)(st.st_size - length) : 0, 0);
        pthread_mutex_unlock(&lock);
    }
    return real_ftruncate(fd, length);
}

int ftruncate(int fd, off_t length) { return truncated(fd, length); }
int ftruncate64(int fd, off_t length) { return truncated(fd, length); }

static int synced(int fd, int data_only) {
    setup();
    int r = data_only ? real_fdatasync(fd) : real_fsync(fd);
    struct stat st;
    if (r == 0 && fd >= 0 && fd < MAX_FD && paths[fd] && !fstat(fd, &st)) {
        pthread_mutex_lock(&lock);
        emit(K_SYNC, st.st_ino, 0, 0, 0, paths[fd], NULL, NULL, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return r;
}

int fsync(int fd) { return synced(fd, 0); }
int fdatasync(int fd) { return synced(fd, 1); }

int close(int fd) {
    setup();
    if (fd >= 0 && fd < MAX_FD && paths[fd]) {
        pthread_mutex_lock(&lock);
        free(paths[fd]);
        paths[fd] = NULL;
        if (readers[fd]) real_close(readers[fd] - 1);
        readers[fd] = 0;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

/* A hard link keeps what a rename over or an unlink removes, for the rollback to put back. */
static void backup_of(const char *abs, char *out) {
    snprintf(out, PATH_MAX, "%s.pcut-%d-%lld", abs, getpid(), ++backups);
    if (link(abs, out)) out[0] = 0;
}

static int renamed(int d1, const char *from, int d2, const char *to, int at) {
    setup();
    char a[PATH_MAX], b[PATH_MAX], keep[PATH_MAX] = "";
    int in_a = resolve(d1, from, a), in_b = resolve(d2, to, b);
    if (!in_a && !in_b) return at ? real_renameat(d1, from, d2, to) : real_rename(from, to);
    pthread_mutex_lock(&lock);
    if (in_b) backup_of(b, keep);
    int r = at ? real_renameat(d1, from, d2, to) : real_rename(from, to);
    int saved = errno;
    if (r == 0) emit(K_RENAME, 0, 0, 0, 0, in_a ? a : "", in_b ? b : "", keep, NULL, 0);
    else if (keep[0]) real_unlink(keep);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return r;
}

int rename(const char *from, const char *to) { return renamed(AT_FDCWD, from, AT_FDCWD, to, 0); }
int renameat(int d1, const char *from, int d2, const char *to) { return renamed(d1, from, d2, to, 1); }

static int unlinked(int d, const char *path, int flags, int at) {
    setup();
    char a[PATH_MAX], keep[PATH_MAX] = "";
    if (!resolve(d, path, a) || (flags & AT_REMOVEDIR))
        return at ? real_unlinkat(d, path, flags) : real_unlink(path);
    pthread_mutex_lock(&lock);
    backup_of(a, keep);
    int r = at ? real_unlinkat(d, path, flags) : real_unlink(path);
    int saved = errno;
    if (r == 0) emit(K_UNLINK, 0, 0, 0, 0, a, NULL, keep, NULL, 0);
    else if (keep[0]) real_unlink(keep);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return r;
}

int unlink(const char *path) { return unlinked(AT_FDCWD, path, 0, 0); }
int unlinkat(int d, const char *path, int flags) { return unlinked(d, path, flags, 1); }

static int made_dir(int d, const char *path, mode_t mode, int at) {
    setup();
    char a[PATH_MAX];
    int in = resolve(d, path, a);
    int r = at ? real_mkdirat(d, path, mode) : real_mkdir(path, mode);
    int saved = errno;
    if (r == 0 && in) {
        pthread_mutex_lock(&lock);
        emit(K_MKDIR, 0, 0, 0, 0, a, NULL, NULL, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    errno = saved;
    return r;
}

int mkdir(const char *path, mode_t mode) { return made_dir(AT_FDCWD, path, mode, 0); }
int mkdirat(int d, const char *path, mode_t mode) { return made_dir(d, path, mode, 1); }
