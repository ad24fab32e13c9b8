// relay.h: after STLS, qmail-popup stays between the TLS client and the
// child (checkpassword, then qmail-pop3d), which talks plain POP3 on its fd
// 0/1, the other end of a socketpair.
#pragma once

#include <string>

#include "tls.h"

namespace qng::pop3 {

// Moves bytes both ways, decrypting the client's and encrypting the
// child's, through bounded buffers (64 KiB each way: a client that
// pipelines more than that waits for the child to catch up). Starts by
// sending the child `to_child` (commands pipelined behind PASS). Ends when
// the child has closed its end and all it said went out, when the client's
// side fails, or when nothing moves for timeout_ms. When the client closes
// its side, the child gets the rest of its input and then end of input.
// The caller closes child_fd and reaps the child.
void relay(TlsServer& tls, int child_fd, std::string to_child, int timeout_ms);

}  // namespace qng::pop3
