// start.h: qmail-start's logic: the pipes and processes around qmail-send.
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace qng::start {

struct Args {
  std::string defaultdelivery = "./Mailbox";  // qmail's default
  std::vector<std::string> logger;            // empty: no logger
};

// qmail-start [defaultdelivery [logger arg...]]
Args parse_args(int argc, char** argv);

// Sets everything up and execs qmail-send; returns only on failure, with
// the reason (the program prints it on stderr and exits 111).
Error run(const Args& args);

}  // namespace qng::start
