/* mkdir through the i386 syscall entry (int 0x80) and through the x86_64 one, from one static
 * x86_64 program: the kernel reports the first as AUDIT_ARCH_I386 to seccomp. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* In .data of a non-PIE binary: below 4 GiB, where the 32-bit entry can read it. */
static char path32[] = "/tmp/i386";

static long int80(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

int main(void)
{
	if (int80(20 /* i386 getpid */, 0, 0) < 0) {
		puts("no i386 entry");
		return 0;
	}
	printf("i386 mkdir: %ld\n", int80(39 /* i386 mkdir */, (long)path32, 0755));
	long r = syscall(SYS_mkdir, "/tmp/x86_64", 0755);
	printf("x86_64 mkdir: %ld\n", r ? -(long)errno : 0L);
	return 0;
}
