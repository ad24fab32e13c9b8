// controls.h: the control files qmail-send reads at start (and, for locals
// and virtualdomains, again on HUP).
#pragma once

#include <cstdint>
#include <string>

#include "channel.h"
#include "control.h"
#include "result.h"
#include "rewrite.h"

namespace qng::send {

struct Controls {
  uint64_t queuelifetime = 604800;
  unsigned concurrency[kChannels] = {kChanConcurrency[kLocal], kChanConcurrency[kRemote]};
  std::string envnoathost;
  std::string bouncefrom;
  std::string bouncehost;
  std::string doublebounceto;  // doublebounceto@doublebouncehost
  // control/bounceformat: "dsn" or "qsbmf". RFC 3464 (DSN) bounces come in
  // a later version; until then both values produce QSBMF bounces.
  std::string bounceformat;
  AddressMaps maps;
};

// Every control qmail-send uses; an unreadable file or a missing
// control/locals without control/me is an error.
Result<Controls> read_controls(const Control& ctl);

// Re-reads control/locals and control/virtualdomains into `maps` (HUP).
// On error `maps` is left as it was; the Error's context names the file.
Status reread_maps(const Control& ctl, AddressMaps& maps);

}  // namespace qng::send
