// verp.h: VERP senders (sender "pre@host-@[]") and where bounces go.
#pragma once

#include <string>
#include <string_view>

namespace qng::send {

// The double-bounce sender: a bounce of a bounce is sent from it, and a
// bounce to it is discarded (triple bounce).
constexpr std::string_view kDoubleBounceSender = "#@[]";

// The sender of the spawn command for one recipient: a sender pre@host-@[]
// becomes prebox=dom@host for recipient box@dom; any other sender, or a
// recipient without '@', leaves the sender as it is.
std::string verp_sender(std::string_view sender, std::string_view recipient);

// Who gets the bounce of a message from `sender`: a VERP sender
// pre@host-@[] receives its bounces at pre@host; other senders as they are
// ("" means the message was itself a bounce).
std::string bounce_target(std::string_view sender);

}  // namespace qng::send
