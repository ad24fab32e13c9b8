// controls.h: the control files qmail-send reads at start (and, for locals
// and virtualdomains, again on HUP).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "channel.h"
#include "control.h"
#include "result.h"
#include "route.h"

namespace qng::send {

// control/bounceformat: "dsn" (the default) sends RFC 3464 reports whose
// first part is the QSBMF text; "qsbmf" sends qmail's plain QSBMF.
enum class BounceFormat { kDsn, kQsbmf };

// "qsbmf" (any case, surrounding blanks ignored) is kQsbmf; anything else,
// "dsn" or a value this version does not know, is the default kDsn.
BounceFormat parse_bounceformat(std::string_view value);

struct Controls {
  uint64_t queuelifetime = 604800;
  unsigned concurrency[kChannels] = {kChanConcurrency[kLocal], kChanConcurrency[kRemote]};
  std::string envnoathost;
  std::string bouncefrom;
  std::string bouncehost;
  std::string doublebounceto;  // doublebounceto@doublebouncehost
  std::string me;  // control/me, else bouncehost: the DSN's Reporting-MTA
  BounceFormat bounceformat = BounceFormat::kDsn;
  AddressMaps maps;
};

// Every control qmail-send uses; an unreadable file or a missing
// control/locals without control/me is an error.
Result<Controls> read_controls(const Control& ctl);

// Re-reads control/locals and control/virtualdomains into `maps` (HUP).
// On error `maps` is left as it was; the Error's context names the file.
Status reread_maps(const Control& ctl, AddressMaps& maps);

}  // namespace qng::send
