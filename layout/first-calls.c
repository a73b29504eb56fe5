// first-calls: runs a program and prints the functions it calls, each once, in the order they
// are first called — across its forks and clones and across re-executions of the same binary.
// A breakpoint sits on every function entry; a process that hits one reports the function and
// gets the original byte back, so each function costs one trap per process, not one per call.
//
// usage: first-calls OUT FUNCTIONS BINARY [ARGS...]
//   OUT: file the names are appended to (the program's own output stays on stdout/stderr);
//   FUNCTIONS: "hexaddr name" lines for BINARY's functions (nm output of an unstripped PIE).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct function {
	unsigned long addr;
	char *name;
	unsigned char orig; // the byte the breakpoint replaces
	int reported;
};

static FILE *out;
static struct function *fns;
static size_t nfns;
static ino_t binary_ino;
// Load address of BINARY in each traced pid; 0 while the pid runs something else.
static unsigned long *base;
static const size_t max_pid = 1 << 22;

static int by_addr(const void *a, const void *b)
{
	unsigned long x = ((const struct function *)a)->addr, y = ((const struct function *)b)->addr;
	return x < y ? -1 : x > y;
}

static struct function *lookup(unsigned long addr)
{
	struct function key = {.addr = addr};
	return bsearch(&key, fns, nfns, sizeof *fns, by_addr);
}

static void read_functions(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t cap = 1024;
	fns = malloc(cap * sizeof *fns);
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		sp[1 + strcspn(sp + 1, "\n")] = 0;
		if (nfns == cap)
			fns = realloc(fns, (cap *= 2) * sizeof *fns);
		fns[nfns++] = (struct function){.addr = strtoul(line, 0, 16), .name = strdup(sp + 1)};
	}
	fclose(f);
	qsort(fns, nfns, sizeof *fns, by_addr);
	size_t kept = 0; // aliases share an address: keep the first name
	for (size_t i = 0; i < nfns; i++)
		if (!kept || fns[i].addr != fns[kept - 1].addr)
			fns[kept++] = fns[i];
	nfns = kept;
}

static int runs_binary(pid_t pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	return stat(path, &st) == 0 && st.st_ino == binary_ino;
}

static unsigned long load_address(pid_t pid)
{
	char path[64], line[4096];
	unsigned long addr = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &min, &ino) == 6 &&
		    ino == binary_ino && off == 0) {
			addr = lo;
			break;
		}
	}
	fclose(f);
	return addr;
}

static void set_byte(pid_t pid, unsigned long addr, unsigned char byte, unsigned char *old)
{
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, addr, 0);
	if (errno)
		return;
	if (old)
		*old = word & 0xff;
	ptrace(PTRACE_POKETEXT, pid, addr, (word & ~0xffL) | byte);
}

// A process that just executed BINARY: a breakpoint on every function not reported yet.
static void arm(pid_t pid)
{
	base[pid] = load_address(pid);
	for (size_t i = 0; i < nfns; i++)
		if (!fns[i].reported)
			set_byte(pid, base[pid] + fns[i].addr, 0xcc, &fns[i].orig);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: first-calls OUT FUNCTIONS BINARY [ARGS...]\n");
		return 2;
	}
	out = fopen(argv[1], "a");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	read_functions(argv[2]);
	struct stat st;
	if (stat(argv[3], &st)) {
		perror(argv[3]);
		return 1;
	}
	binary_ino = st.st_ino;
	base = calloc(max_pid, sizeof *base);
	pid_t child = fork();
	if (child == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	int status, code = 0;
	waitpid(child, &status, 0);
	ptrace(PTRACE_SETOPTIONS, child, 0,
	       PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
		       PTRACE_O_EXITKILL);
	ptrace(PTRACE_CONT, child, 0, 0);
	for (;;) {
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == ECHILD)
				break;
			continue;
		}
		if (!WIFSTOPPED(status)) {
			if (pid == child && WIFEXITED(status))
				code = WEXITSTATUS(status);
			base[pid] = 0;
			continue;
		}
		int sig = WSTOPSIG(status), event = status >> 16, deliver = 0;
		if (event == PTRACE_EVENT_EXEC) {
			if (!runs_binary(pid)) {
				// The container's own program: let it go (a detached one outlives us).
				base[pid] = 0;
				ptrace(PTRACE_DETACH, pid, 0, 0);
				continue;
			}
			arm(pid);
		} else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
			   event == PTRACE_EVENT_CLONE) {
			unsigned long new_pid;
			ptrace(PTRACE_GETEVENTMSG, pid, 0, &new_pid);
			base[new_pid] = base[pid];
		} else if (sig == SIGTRAP && !event && base[pid]) {
			struct user_regs_struct regs;
			ptrace(PTRACE_GETREGS, pid, 0, &regs);
			struct function *fn = lookup(regs.rip - 1 - base[pid]);
			if (fn) {
				if (!fn->reported) {
					fn->reported = 1;
					fprintf(out, "%s\n", fn->name);
				}
				regs.rip--;
				set_byte(pid, regs.rip, fn->orig, NULL);
				ptrace(PTRACE_SETREGS, pid, 0, &regs);
			} else {
				deliver = sig;
			}
		} else if (sig != SIGSTOP && !event) {
			deliver = sig;
		}
		ptrace(PTRACE_CONT, pid, 0, deliver);
	}
	fclose(out);
	return code;
}
