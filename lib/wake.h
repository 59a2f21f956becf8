/*
 * Waking an event loop from another thread: an eventfd the loop watches
 * for reading. Any thread posts; the loop's callback drains the counter
 * and then looks at whatever the posters left for it.
 */
#ifndef DRIFTD_LIB_WAKE_H
#define DRIFTD_LIB_WAKE_H

/* A non-blocking, close-on-exec eventfd, or -1 with errno set. */
int wake_open(void);

/* Wake the loop watching fd (any thread; async-signal-safe). A write
 * fails only when the counter is full, and the loop is then awake. */
void wake_post(int fd);

/* Reset the counter (the loop's callback); 0, or -1 with errno set when
 * the read failed for another reason than an empty counter. */
int wake_drain(int fd);

#endif
