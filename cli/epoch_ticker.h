/* A thread that advances an engine's epoch once a millisecond, so that --epoch-deadline N bounds
 * each call to about N milliseconds (DESIGN.md invariant 8: epochs stop runaway code cheaply). */
#ifndef WAFER_CLI_EPOCH_TICKER_H
#define WAFER_CLI_EPOCH_TICKER_H

#include "wafer.h"

typedef struct epoch_ticker epoch_ticker;

/* NULL when the thread cannot be started. The engine must outlive the ticker. */
epoch_ticker *epoch_ticker_start(wafer_engine *engine);
/* Stops the thread and waits for it. */
void epoch_ticker_stop(epoch_ticker *ticker);

#endif
