// replies.h: every fixed reply of qmail-smtpd, in one place.
//
// qmail's own replies keep qmail's wording byte for byte, with its (#x.y.z)
// tail; since we announce ENHANCEDSTATUSCODES, RFC 2034 puts the same code
// after the reply code as well. Replies qmail never had use RFC 3463 codes.
// The greeting, HELO, EHLO and 334/354 intermediate replies carry no code.
#pragma once

#include <string_view>

namespace qng::smtpd::reply {

// qmail 1.03's replies.
constexpr std::string_view kMailOk = "250 2.1.0 ok";
constexpr std::string_view kRcptOk = "250 2.1.5 ok";
constexpr std::string_view kRset = "250 2.0.0 flushed";
constexpr std::string_view kNoop = "250 2.0.0 ok";
constexpr std::string_view kVrfy = "252 2.0.0 send some mail, i'll try my best";
constexpr std::string_view kHelp = "214 2.0.0 qmail home page: https://cr.yp.to/qmail.html";
constexpr std::string_view kGoAhead = "354 go ahead";
constexpr std::string_view kUnimplemented = "502 5.5.1 unimplemented (#5.5.1)";
constexpr std::string_view kMailFirst = "503 5.5.1 MAIL first (#5.5.1)";
constexpr std::string_view kRcptFirst = "503 5.5.1 RCPT first (#5.5.1)";
constexpr std::string_view kSyntax = "555 5.5.4 syntax error (#5.5.4)";
constexpr std::string_view kBadMailFrom =
    "553 5.7.1 sorry, your envelope sender is in my badmailfrom list (#5.7.1)";
constexpr std::string_view kNotRcptHost =
    "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
constexpr std::string_view kQqtFailure = "451 4.3.0 qqt failure (#4.3.0)";
constexpr std::string_view kHops = "554 5.4.6 too many hops, this message is looping (#5.4.6)";
constexpr std::string_view kTooBig =
    "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)";
constexpr std::string_view kTimeout = "451 4.4.2 timeout (#4.4.2)";
constexpr std::string_view kControls = "421 4.3.0 unable to read controls (#4.3.0)";
constexpr std::string_view kNoMem = "421 4.3.0 out of memory (#4.3.0)";
constexpr std::string_view kIpMe = "421 4.3.0 unable to figure out my IP addresses (#4.3.0)";
constexpr std::string_view kControlsLater = "451 4.3.0 unable to read controls (#4.3.0)";

// qmail-ng's replies.
constexpr std::string_view kLineTooLong = "500 5.5.2 line too long";
constexpr std::string_view kNulInCommand = "500 5.5.2 NUL character in command";
constexpr std::string_view kTooManyBad = "421 4.7.0 too many bad commands, closing connection";
constexpr std::string_view kSessionTime =
    "421 4.4.2 session time limit exceeded, closing connection";
constexpr std::string_view kEhloFirst = "503 5.5.1 send EHLO first";
constexpr std::string_view kBadParameter = "555 5.5.4 unsupported parameter";
constexpr std::string_view kNeedUtf8 = "553 5.6.7 non-ASCII address requires SMTPUTF8";
constexpr std::string_view kTooManyRcpt = "452 4.5.3 too many recipients";
constexpr std::string_view kNoMailbox = "550 5.1.1 sorry, no mailbox here by that name";
constexpr std::string_view kRcptDbDown = "451 4.3.0 recipient database unavailable";
constexpr std::string_view kBareLineEnd =
    "554 5.6.0 sorry, bare LF or CR in message; see https://cr.yp.to/docs/smtplf.html";
constexpr std::string_view kNul = "554 5.6.0 sorry, NUL character in message";

constexpr std::string_view kTlsGo = "220 2.0.0 ready to start TLS";
constexpr std::string_view kTlsUnavailable = "454 4.7.0 TLS not available due to temporary reason";
constexpr std::string_view kTlsActive = "503 5.5.1 TLS already active";
constexpr std::string_view kNoParameters = "501 5.5.4 syntax error (no parameters allowed)";

constexpr std::string_view kAuthRequired = "530 5.7.0 authentication required";
constexpr std::string_view kAuthOk = "235 2.7.0 authentication successful";
constexpr std::string_view kAuthFailed = "535 5.7.8 authentication failed";
constexpr std::string_view kAuthTemp = "454 4.7.0 temporary authentication failure";
constexpr std::string_view kAuthNeedTls =
    "538 5.7.11 encryption required for requested authentication mechanism";
constexpr std::string_view kAuthAlready = "503 5.5.1 already authenticated";
constexpr std::string_view kAuthInMail = "503 5.5.1 AUTH not permitted during a mail transaction";
constexpr std::string_view kAuthMechanism = "504 5.5.4 unrecognized authentication type";
constexpr std::string_view kAuthSyntax = "501 5.5.4 syntax error in AUTH command";
constexpr std::string_view kAuthDecode = "501 5.5.2 cannot decode response";
constexpr std::string_view kAuthCancelled = "501 5.0.0 authentication cancelled";
constexpr std::string_view kAuthLineTooLong =
    "500 5.5.6 authentication exchange line is too long";
constexpr std::string_view kAuthTooMany =
    "421 4.7.0 too many authentication failures, closing connection";

}  // namespace qng::smtpd::reply
