// qmtp_client.h: qmail-remote's QMTP client (cr.yp.to/proto/qmtp.txt,
// QMAIL-INTERFACES 14): one package per connection (the message with LF
// line ends, the sender, the recipients), then one K/Z/D reply netstring
// per recipient, mapped to qmail-remote's r/h/s records and a K/Z/D
// message record in qmail-remote's words. No TLS: QMTP has no STARTTLS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "channel.h"
#include "mx.h"
#include "output.h"
#include "qmtp.h"
#include "result.h"
#include "smtp.h"

namespace qng::remote {

// MXPS (cr.yp.to/im/mxps.html; RFCMXPS in qmail's documentation): MX
// preferences 12800..13055 are sliced into 16 by pref % 16; slice #1
// (12801, 12817, ..., 13041) says the exchanger speaks QMTP on port 209.
// The client tries QMTP first and SMTP (port 25) at the same address when
// the QMTP connection cannot be made.
bool mxps_qmtp(unsigned pref);

// The front of a package up to the message: "LEN:" and the LF that says
// the message has LF line ends; LEN counts that LF, the DKIM fields and
// the stored message. E2BIG when it does not fit.
Result<std::string> qmtp_head(uint64_t prefix_len, uint64_t message_len);
// The rest of a package after the message: "," then the sender's and the
// recipient list's netstrings.
std::string qmtp_tail(std::string_view sender, const std::vector<std::string>& recipients);

// The records for a complete set of replies (one per recipient, in
// order): K -> r, Z -> s, D -> h (with "Remote host said: TEXT"), then K
// when any recipient was accepted, else "DGiving up on IP."
void qmtp_report(const std::vector<WireReply>& replies, std::string_view ip, Output& out);

// Sends d (envelope_sender, envelope_recipients, prefix, message_fd, size)
// as one package on ch, connected to target, reads the replies and
// finishes out.
void deliver_qmtp(Channel& ch, const Delivery& d, const Target& target, Output& out);

}  // namespace qng::remote
