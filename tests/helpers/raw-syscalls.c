/* Makes each syscall whose number is given on the command line, with all-zero arguments, and
 * prints "<number> <result>" per line, the result -errno on failure. For numbers a seccomp
 * filter answers itself: what the filter returns, without reaching the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 0);
		long ret = syscall(nr, 0, 0, 0, 0, 0, 0);
		printf("%ld %ld\n", nr, ret < 0 ? -(long)errno : ret);
	}
	return 0;
}
