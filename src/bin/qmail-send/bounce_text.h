// bounce_text.h: the texts of a qmail bounce (QSBMF), byte for byte.
//
// bounce/N collects one paragraph per failed recipient; when the message is
// done qmail-send injects
//   bounce_intro() + contents of bounce/N + bounce_break() + mess/S/N
// (bounce_message() puts the same together in memory, for tests). That is
// control/bounceformat "qsbmf"; the default "dsn" wraps the same text in an
// RFC 3464 report (dsn_text.h).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace qng::send {

// One recipient's paragraph: "<recip>:\n" (newlines in recip -> '_'), the
// report with a newline added if it lacks one, any empty line inside turned
// into "/" so the paragraph stays one, then an empty line.
std::string bounce_paragraph(std::string_view recipient, std::string_view report);

struct BounceHead {
  time_t date = 0;
  std::string bouncefrom;   // control/bouncefrom, local part of From:
  std::string bouncehost;   // control/bouncehost
  std::string recipient;    // To: (original sender, or doublebounceto@host)
  bool double_bounce = false;  // the original sender was "" (a bounce)
  std::string return_path;  // original sender, VERP suffix stripped
};

// The line qmail-send adds to a temporary failure's report when the message
// has been in the queue longer than control/queuelifetime.
constexpr std::string_view kTooOld =
    "I'm not going to try again; this message has been in the queue too long.\n";

// Date, From, To and Subject lines.
std::string bounce_header(const BounceHead& head);
// The intro paragraph ("Hi. This is the qmail-send program at ...") and
// the empty line after it.
std::string bounce_intro_text(const BounceHead& head);
// The break line ("--- Below this line is ..."), without the empty line.
std::string bounce_break_line(const BounceHead& head);
// Header, blank line and the intro paragraph.
std::string bounce_intro(const BounceHead& head);
// The break paragraph and the Return-Path line of the copied message.
std::string bounce_break(const BounceHead& head);
// The whole bounce.
std::string bounce_message(const BounceHead& head, std::string_view paragraphs,
                           std::string_view message);

}  // namespace qng::send
