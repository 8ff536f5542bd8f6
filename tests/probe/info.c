/* `probe all`: the full report of what the process sees inside the container. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

/* Emits "key": <value of the /proc/self/status field>, as a string. */
static void status_field(const char* status, const char* field, const char* key, int as_int) {
  size_t flen = strlen(field);
  for (const char* line = status; line && *line;) {
    const char* end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > flen && strncmp(line, field, flen) == 0 && line[flen] == ':') {
      const char* v = line + flen + 1;
      while (*v == ' ' || *v == '\t') v++;
      json_key(key);
      if (as_int) {
        json_int(atoll(v));
      } else {
        json_string_n(v, (size_t)(line + len - v));
      }
      return;
    }
    line = end ? end + 1 : NULL;
  }
  json_key(key);
  json_null();
}

static void report_ids(void) {
  json_kv_int("pid", getpid());
  json_kv_int("ppid", getppid());
  json_kv_int("uid", getuid());
  json_kv_int("euid", geteuid());
  json_kv_int("gid", getgid());
  json_kv_int("egid", getegid());
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  json_key("groups");
  json_begin_array();
  for (int i = 0; i < n; i++) json_int(groups[i]);
  json_end_array();
}

static void report_status(void) {
  size_t len = 0;
  char* status = slurp("/proc/self/status", &len);
  json_key("caps");
  json_begin_object();
  status_field(status, "CapInh", "inh", 0);
  status_field(status, "CapPrm", "prm", 0);
  status_field(status, "CapEff", "eff", 0);
  status_field(status, "CapBnd", "bnd", 0);
  status_field(status, "CapAmb", "amb", 0);
  json_end_object();
  status_field(status, "NoNewPrivs", "no_new_privs", 1);
  status_field(status, "Seccomp", "seccomp", 1);
  free(status);
}

static void report_uts(void) {
  struct utsname u;
  if (uname(&u) == 0) {
    json_kv_string("hostname", u.nodename);
    json_kv_string("domainname", u.domainname);
  }
  char cwd[PATH_MAX];
  json_kv_string("cwd", getcwd(cwd, sizeof cwd) ? cwd : NULL);
  mode_t mask = umask(0);
  umask(mask);
  json_kv_int("umask", mask);
  json_key("isatty");
  json_begin_array();
  for (int fd = 0; fd < 3; fd++) json_bool(isatty(fd));
  json_end_array();
}

extern char** environ;

static void report_env(void) {
  json_key("env");
  json_begin_array();
  for (char** e = environ; e && *e; e++) json_string(*e);
  json_end_array();
}

static const struct {
  const char* name;
  int resource;
} kRlimits[] = {
    {"AS", RLIMIT_AS},           {"CORE", RLIMIT_CORE},         {"CPU", RLIMIT_CPU},
    {"DATA", RLIMIT_DATA},       {"FSIZE", RLIMIT_FSIZE},       {"LOCKS", RLIMIT_LOCKS},
    {"MEMLOCK", RLIMIT_MEMLOCK}, {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
    {"NOFILE", RLIMIT_NOFILE},   {"NPROC", RLIMIT_NPROC},       {"RSS", RLIMIT_RSS},
    {"RTPRIO", RLIMIT_RTPRIO},   {"RTTIME", RLIMIT_RTTIME},     {"SIGPENDING", RLIMIT_SIGPENDING},
    {"STACK", RLIMIT_STACK},
};

static void json_limit(const char* key, rlim_t v) {
  json_kv_int(key, v == RLIM_INFINITY ? -1 : (long long)v);
}

static void report_rlimits(void) {
  json_key("rlimits");
  json_begin_object();
  for (size_t i = 0; i < sizeof kRlimits / sizeof kRlimits[0]; i++) {
    struct rlimit rl;
    if (getrlimit(kRlimits[i].resource, &rl) != 0) continue;
    json_key(kRlimits[i].name);
    json_begin_object();
    json_limit("soft", rl.rlim_cur);
    json_limit("hard", rl.rlim_max);
    json_end_object();
  }
  json_end_object();
}

/* Splits s in place at sep; returns the next token and advances *s. */
static char* next_token(char** s, char sep) {
  if (*s == NULL) return NULL;
  char* tok = *s;
  char* p = strchr(tok, sep);
  if (p) {
    *p = '\0';
    *s = p + 1;
  } else {
    *s = NULL;
  }
  return tok;
}

/* Mountinfo escapes space, tab, newline and backslash as \ooo octal. */
static void json_unescaped(const char* s) {
  char buf[PATH_MAX * 2];
  size_t n = 0;
  for (size_t i = 0; s[i] && n + 1 < sizeof buf; i++) {
    if (s[i] == '\\' && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] && s[i + 3]) {
      buf[n++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      buf[n++] = s[i];
    }
  }
  json_string_n(buf, n);
}

/* One mountinfo line: ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SRC SUPER */
static void report_mount_line(char* line) {
  char* rest = line;
  char* id = next_token(&rest, ' ');
  char* parent = next_token(&rest, ' ');
  char* majmin = next_token(&rest, ' ');
  char* root = next_token(&rest, ' ');
  char* point = next_token(&rest, ' ');
  char* opts = next_token(&rest, ' ');
  if (!opts) return;
  json_begin_object();
  json_kv_int("id", atoll(id));
  json_kv_int("parent", atoll(parent));
  json_kv_string("major_minor", majmin);
  json_key("root");
  json_unescaped(root);
  json_key("mount_point");
  json_unescaped(point);
  json_kv_string("options", opts);
  json_key("optional");
  json_begin_array();
  char* tok;
  while ((tok = next_token(&rest, ' ')) != NULL && strcmp(tok, "-") != 0) json_string(tok);
  json_end_array();
  char* fstype = next_token(&rest, ' ');
  char* source = next_token(&rest, ' ');
  json_kv_string("fstype", fstype);
  json_key("source");
  if (source) {
    json_unescaped(source);
  } else {
    json_null();
  }
  json_kv_string("super_options", rest);
  json_end_object();
}

static void report_mounts(void) {
  size_t len = 0;
  char* info = slurp("/proc/self/mountinfo", &len);
  json_key("mounts");
  json_begin_array();
  char* rest = info;
  char* line;
  while ((line = next_token(&rest, '\n')) != NULL) {
    if (*line) report_mount_line(line);
  }
  json_end_array();
  free(info);
}

static void report_lines(const char* key, const char* path) {
  size_t len = 0;
  char* text = slurp(path, &len);
  json_key(key);
  if (!text) {
    json_null();
    return;
  }
  json_begin_array();
  char* rest = text;
  char* line;
  while ((line = next_token(&rest, '\n')) != NULL) {
    if (*line) json_string(line);
  }
  json_end_array();
  free(text);
}

/* Lists a /proc/self directory of symlinks as {name: target}. Used for ns. */
static void report_ns(void) {
  json_key("namespaces");
  json_begin_object();
  DIR* d = opendir("/proc/self/ns");
  if (d) {
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[PATH_MAX], target[PATH_MAX];
      snprintf(path, sizeof path, "/proc/self/ns/%s", e->d_name);
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = '\0';
      json_kv_string(e->d_name, target);
    }
    closedir(d);
  }
  json_end_object();
}

static int cmp_int(const void* a, const void* b) { return *(const int*)a - *(const int*)b; }

/* Open fds, excluding the directory stream used to enumerate them. */
static void report_fds(void) {
  json_key("fds");
  json_begin_array();
  DIR* d = opendir("/proc/self/fd");
  if (d) {
    int self = dirfd(d);
    int fds[4096];
    size_t count = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL && count < 4096) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd != self) fds[count++] = fd;
    }
    qsort(fds, count, sizeof fds[0], cmp_int);
    for (size_t i = 0; i < count; i++) {
      char path[64], target[PATH_MAX];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
      ssize_t n = readlink(path, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = '\0';
      json_begin_object();
      json_kv_int("fd", fds[i]);
      json_kv_string("target", target);
      json_end_object();
    }
    closedir(d);
  }
  json_end_array();
}

/* Each argument is a sysctl name ("net.ipv4.ip_forward"); value or null. */
static void report_sysctls(int argc, char** argv) {
  json_key("sysctl");
  json_begin_object();
  for (int i = 0; i < argc; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/sys/%s", argv[i]);
    for (char* p = path + strlen("/proc/sys/"); *p; p++) {
      if (*p == '.') *p = '/';
    }
    size_t len = 0;
    char* value = slurp(path, &len);
    while (value && len > 0 && (value[len - 1] == '\n' || value[len - 1] == ' ')) {
      value[--len] = '\0';
    }
    json_kv_string(argv[i], value);
    free(value);
  }
  json_end_object();
}

static void report_oom(void) {
  size_t len = 0;
  char* v = slurp("/proc/self/oom_score_adj", &len);
  json_key("oom_score_adj");
  if (v) {
    json_int(atoll(v));
  } else {
    json_null();
  }
  free(v);
}

int cmd_all(int argc, char** argv) {
  /* fds first, so nothing the probe opens later is counted. */
  json_begin_object();
  report_fds();
  report_ids();
  report_status();
  report_uts();
  report_env();
  report_rlimits();
  report_mounts();
  report_lines("cgroup", "/proc/self/cgroup");
  report_ns();
  report_oom();
  report_sysctls(argc, argv);
  json_end_object();
  json_finish();
  return 0;
}
