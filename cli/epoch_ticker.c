/* The epoch ticker: see epoch_ticker.h. */
#include "epoch_ticker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct epoch_ticker {
    wafer_engine *engine;
    atomic_bool stop;
    pthread_t thread;
};

static void *epoch_ticker_loop(void *arg) {
    epoch_ticker *ticker = arg;
    const struct timespec tick = {0, 1000000};
    while (!atomic_load_explicit(&ticker->stop, memory_order_relaxed)) {
        nanosleep(&tick, NULL);
        wafer_engine_increment_epoch(ticker->engine);
    }
    return NULL;
}

epoch_ticker *epoch_ticker_start(wafer_engine *engine) {
    epoch_ticker *ticker = malloc(sizeof *ticker);
    if (!ticker) return NULL;
    ticker->engine = engine;
    atomic_init(&ticker->stop, false);
    if (pthread_create(&ticker->thread, NULL, epoch_ticker_loop, ticker) != 0) {
        free(ticker);
        return NULL;
    }
    return ticker;
}

void epoch_ticker_stop(epoch_ticker *ticker) {
    atomic_store_explicit(&ticker->stop, true, memory_order_relaxed);
    pthread_join(ticker->thread, NULL);
    free(ticker);
}
