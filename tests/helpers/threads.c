/* mkdir from a second thread: the filter must hold for threads too. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void *worker(void *arg)
{
	(void)arg;
	int r = mkdir("/tmp/from-thread", 0755);
	printf("thread mkdir: %s\n", r ? strerror(errno) : "ok");
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL))
		return 2;
	pthread_join(t, NULL);
	return 0;
}
