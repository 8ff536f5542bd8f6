/* The probe's small sub-commands; see probe.h. Each prints one JSON object. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define NAME(x) \
  case x:       \
    return #x

const char* errno_name(int err) {
  static char buf[32];
  switch (err) {
    NAME(EPERM);
    NAME(ENOENT);
    NAME(ESRCH);
    NAME(EINTR);
    NAME(EIO);
    NAME(ENXIO);
    NAME(E2BIG);
    NAME(ENOEXEC);
    NAME(EBADF);
    NAME(ECHILD);
    NAME(EAGAIN);
    NAME(ENOMEM);
    NAME(EACCES);
    NAME(EFAULT);
    NAME(EBUSY);
    NAME(EEXIST);
    NAME(EXDEV);
    NAME(ENODEV);
    NAME(ENOTDIR);
    NAME(EISDIR);
    NAME(EINVAL);
    NAME(ENFILE);
    NAME(EMFILE);
    NAME(ENOTTY);
    NAME(ETXTBSY);
    NAME(EFBIG);
    NAME(ENOSPC);
    NAME(ESPIPE);
    NAME(EROFS);
    NAME(EMLINK);
    NAME(EPIPE);
    NAME(ERANGE);
    NAME(ENOSYS);
    NAME(ELOOP);
    NAME(ENAMETOOLONG);
    NAME(ENOTEMPTY);
    NAME(EOPNOTSUPP);
    NAME(EDQUOT);
    NAME(EBADFD);
    default:
      snprintf(buf, sizeof buf, "E%d", err);
      return buf;
  }
}

const char* signal_name(int sig) {
  static char buf[32];
  switch (sig) {
    NAME(SIGHUP);
    NAME(SIGINT);
    NAME(SIGQUIT);
    NAME(SIGILL);
    NAME(SIGTRAP);
    NAME(SIGABRT);
    NAME(SIGBUS);
    NAME(SIGFPE);
    NAME(SIGKILL);
    NAME(SIGUSR1);
    NAME(SIGSEGV);
    NAME(SIGUSR2);
    NAME(SIGPIPE);
    NAME(SIGALRM);
    NAME(SIGTERM);
    NAME(SIGSTKFLT);
    NAME(SIGCHLD);
    NAME(SIGCONT);
    NAME(SIGSTOP);
    NAME(SIGTSTP);
    NAME(SIGTTIN);
    NAME(SIGTTOU);
    NAME(SIGURG);
    NAME(SIGXCPU);
    NAME(SIGXFSZ);
    NAME(SIGVTALRM);
    NAME(SIGPROF);
    NAME(SIGWINCH);
    NAME(SIGIO);
    NAME(SIGPWR);
    NAME(SIGSYS);
    default:
      snprintf(buf, sizeof buf, "SIG%d", sig);
      return buf;
  }
}

char* slurp(const char* path, size_t* len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap + 1);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      free(buf);
      errno = saved;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* {"ok": false, "errno": "EROFS"} and exit code 1. */
static int fail_json(int err) {
  json_kv_bool("ok", 0);
  json_kv_string("errno", errno_name(err));
  json_end_object();
  json_finish();
  return 1;
}

int cmd_sleep(int argc, char** argv) {
  unsigned seconds = argc > 0 ? (unsigned)atoi(argv[0]) : 3600;
  while (seconds > 0) seconds = sleep(seconds);
  return 0;
}

int cmd_exit(int argc, char** argv) { return argc > 0 ? atoi(argv[0]) : 0; }

int cmd_readfile(int argc, char** argv) {
  json_begin_object();
  if (argc < 1) return fail_json(EINVAL);
  size_t len = 0;
  char* data = slurp(argv[0], &len);
  if (!data) return fail_json(errno);
  json_kv_bool("ok", 1);
  json_kv_int("size", (long long)len);
  json_key("data");
  json_string_n(data, len > 65536 ? 65536 : len);
  json_end_object();
  json_finish();
  free(data);
  return 0;
}

int cmd_writefile(int argc, char** argv) {
  json_begin_object();
  if (argc < 2) return fail_json(EINVAL);
  int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail_json(errno);
  size_t len = strlen(argv[1]);
  ssize_t w = write(fd, argv[1], len);
  if (w < 0 || (size_t)w != len) {
    int err = w < 0 ? errno : EIO;
    close(fd);
    return fail_json(err);
  }
  if (close(fd) != 0) return fail_json(errno);
  json_kv_bool("ok", 1);
  json_end_object();
  json_finish();
  return 0;
}

/* Opens PATH read-only ("r", the default) or write-only ("w") and closes it:
 * tells apart a refused open (devices cgroup) from what the device does next. */
int cmd_open(int argc, char** argv) {
  json_begin_object();
  if (argc < 1) return fail_json(EINVAL);
  int flags = (argc > 1 && strcmp(argv[1], "w") == 0) ? O_WRONLY : O_RDONLY;
  int fd = open(argv[0], flags | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail_json(errno);
  close(fd);
  json_kv_bool("ok", 1);
  json_end_object();
  json_finish();
  return 0;
}

/* Tries one syscall by name; for seccomp tests. Arguments chosen so that the call
 * is harmless when allowed. `personality N` passes N as the persona. */
int cmd_syscall(int argc, char** argv) {
  json_begin_object();
  if (argc < 1) return fail_json(EINVAL);
  const char* name = argv[0];
  long ret;
  errno = 0;
  if (strcmp(name, "unshare") == 0) {
    ret = unshare(CLONE_NEWUTS);
  } else if (strcmp(name, "mount") == 0) {
    ret = mount("none", "/tmp", "tmpfs", 0, NULL);
  } else if (strcmp(name, "uname") == 0) {
    struct utsname u;
    ret = uname(&u);
  } else if (strcmp(name, "getcwd") == 0) {
    char buf[4096];
    ret = getcwd(buf, sizeof buf) ? 0 : -1;
  } else if (strcmp(name, "personality") == 0) {
    unsigned long persona = argc > 1 ? strtoul(argv[1], NULL, 0) : 0xffffffffUL;
    ret = personality(persona);
  } else if (strcmp(name, "getpid") == 0) {
    ret = getpid();
  } else if (strcmp(name, "chdir") == 0) {
    ret = chdir(argc > 1 ? argv[1] : "/");
  } else if (strcmp(name, "mkdir") == 0) {
    ret = mkdir(argc > 1 ? argv[1] : "/tmp/probe-mkdir", 0755);
  } else {
    return fail_json(ENOSYS);
  }
  int err = errno;
  json_kv_string("syscall", name);
  json_kv_int("ret", ret);
  json_kv_bool("ok", ret >= 0);
  json_kv_string("errno", ret < 0 ? errno_name(err) : NULL);
  json_end_object();
  json_finish();
  return ret < 0 ? 1 : 0;
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int cmd_ls(int argc, char** argv) {
  json_begin_object();
  DIR* d = opendir(argc > 0 ? argv[0] : ".");
  if (!d) return fail_json(errno);
  char* names[4096];
  size_t count = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && count < 4096) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof names[0], cmp_str);
  json_kv_bool("ok", 1);
  json_key("entries");
  json_begin_array();
  for (size_t i = 0; i < count; i++) {
    json_string(names[i]);
    free(names[i]);
  }
  json_end_array();
  json_end_object();
  json_finish();
  return 0;
}

static const char* file_type(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

/* lstat of PATH: type, permission bits, owner and device numbers. */
int cmd_stat(int argc, char** argv) {
  json_begin_object();
  struct stat st;
  if (argc < 1) return fail_json(EINVAL);
  if (lstat(argv[0], &st) != 0) return fail_json(errno);
  json_kv_bool("ok", 1);
  json_kv_string("type", file_type(st.st_mode));
  json_kv_int("mode", st.st_mode & 07777);
  json_kv_int("uid", st.st_uid);
  json_kv_int("gid", st.st_gid);
  json_kv_int("size", st.st_size);
  json_kv_int("major", major(st.st_rdev));
  json_kv_int("minor", minor(st.st_rdev));
  char target[4096];
  ssize_t n = S_ISLNK(st.st_mode) ? readlink(argv[0], target, sizeof target - 1) : -1;
  if (n >= 0) {
    target[n] = '\0';
    json_kv_string("target", target);
  }
  json_end_object();
  json_finish();
  return 0;
}

/* Prints "ready", then the name of the first catchable signal delivered. All
 * signals are blocked and collected with sigwaitinfo, which also works as pid 1
 * of a pid namespace (where default actions of unhandled signals are ignored). */
int cmd_signal_wait(int argc, char** argv) {
  (void)argc;
  (void)argv;
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    if (sig == SIGCHLD) continue; /* not interesting; keep waiting */
    printf("%s\n", signal_name(sig));
    fflush(stdout);
    return 0;
  }
}

/* Forks N children that sleep, reports how many forks succeeded and the errno of
 * the first failure, then kills and reaps the children. For the pids limit. */
int cmd_forks(int argc, char** argv) {
  int want = argc > 0 ? atoi(argv[0]) : 10;
  pid_t kids[1024];
  int made = 0, err = 0;
  if (want > 1024) want = 1024;
  for (int i = 0; i < want; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p < 0) {
      err = errno;
      break;
    }
    kids[made++] = p;
  }
  for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < made; i++) waitpid(kids[i], NULL, 0);
  json_begin_object();
  json_kv_int("requested", want);
  json_kv_int("forked", made);
  json_kv_string("errno", err ? errno_name(err) : NULL);
  json_end_object();
  json_finish();
  return 0;
}
