// channel.h: qmail-send's two delivery channels and their fixed properties.
#pragma once

#include "route.h"  // Channel: the routing decision is the library's

namespace qng::send {

using qng::Channel;
using qng::kLocal;
using qng::kRemote;
constexpr int kChannels = 2;

// Queue directory of each channel's recipient lists (local/S/N, remote/S/N).
constexpr const char* kChanDir[kChannels] = {"local", "remote"};
// The word used in log lines ("to local ADDR", "status: local L/LMAX").
constexpr const char* kChanName[kChannels] = {"local", "remote"};
// Retry spacing constant C of next = birth + (floor(sqrt(age)) + C)^2.
constexpr long kChanSkip[kChannels] = {10, 20};
// Defaults of control/concurrencylocal and control/concurrencyremote.
constexpr unsigned kChanConcurrency[kChannels] = {10, 20};

}  // namespace qng::send
