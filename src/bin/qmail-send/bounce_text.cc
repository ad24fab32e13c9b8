// bounce_text.cc: QSBMF paragraphs and the bounce around them.
#include "bounce_text.h"

#include "address.h"
#include "date.h"

namespace qng::send {
namespace {

// Return-Path and To: quote the local part (qmail's quote2); an empty
// address stays empty.
std::string quote_or_empty(std::string_view address) {
  if (address.empty()) return std::string();
  return quote_address(address);
}

}  // namespace

std::string bounce_paragraph(std::string_view recipient, std::string_view report) {
  std::string t = "<";
  t.append(recipient);
  for (char& c : t)
    if (c == '\n') c = '_';
  t += ">:\n";
  t.append(report);
  if (!report.empty() && report.back() != '\n') t += '\n';
  // An empty line would end the paragraph: "\n\n" inside becomes "\n/".
  // (qmail starts one byte earlier and so keeps a report's own trailing
  // empty line, which breaks the paragraph; that one is mended too.)
  for (size_t pos = t.size() - 1; pos > 0; --pos)
    if (t[pos] == '\n' && t[pos - 1] == '\n') t[pos] = '/';
  if (t.back() != '\n') t += '\n';
  t += '\n';
  return t;
}

std::string bounce_header(const BounceHead& h) {
  std::string s;
  s += "Date: " + date822(h.date) + "\n";
  s += "From: " + quote_address(h.bouncefrom + "@" + h.bouncehost) + "\n";
  s += "To: " + quote_or_empty(h.recipient) + "\n";
  s += "Subject: failure notice\n";
  return s;
}

std::string bounce_intro_text(const BounceHead& h) {
  std::string s = "Hi. This is the qmail-send program at " + h.bouncehost + ".\n";
  if (!h.double_bounce) {
    s += "I'm afraid I wasn't able to deliver your message to the following addresses.\n";
    s += "This is a permanent error; I've given up. Sorry it didn't work out.\n";
  } else {
    s += "I tried to deliver a bounce message to this address, but the bounce bounced!\n";
  }
  s += "\n";
  return s;
}

std::string bounce_break_line(const BounceHead& h) {
  return h.double_bounce ? "--- Below this line is the original bounce.\n"
                         : "--- Below this line is a copy of the message.\n";
}

std::string bounce_intro(const BounceHead& h) {
  return bounce_header(h) + "\n" + bounce_intro_text(h);
}

std::string bounce_break(const BounceHead& h) {
  return bounce_break_line(h) + "\nReturn-Path: <" + quote_or_empty(h.return_path) + ">\n";
}

std::string bounce_message(const BounceHead& head, std::string_view paragraphs,
                           std::string_view message) {
  std::string s = bounce_intro(head);
  s.append(paragraphs);
  s += bounce_break(head);
  s.append(message);
  return s;
}

}  // namespace qng::send
