// enqueue.h: qmail-queue's one step-by-step function (see enqueue.cc).
#pragma once

namespace qng {

// Queues the message on fd 0 with the envelope on fd 1 into the queue of
// the instance this binary belongs to; returns qmail-queue's exit code.
int queue_message();

}  // namespace qng
