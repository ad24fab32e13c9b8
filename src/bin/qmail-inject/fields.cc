// fields.cc: the header fields qmail-inject knows (qmail's hfield).
#include "fields.h"

#include <cstddef>

namespace qng::inject {
namespace {

struct Known {
  std::string_view name;
  Field field;
};

constexpr Known kKnown[] = {
    {"sender", Field::kSender},
    {"from", Field::kFrom},
    {"reply-to", Field::kReplyTo},
    {"to", Field::kTo},
    {"cc", Field::kCc},
    {"bcc", Field::kBcc},
    {"date", Field::kDate},
    {"message-id", Field::kMessageId},
    {"subject", Field::kSubject},
    {"resent-sender", Field::kResentSender},
    {"resent-from", Field::kResentFrom},
    {"resent-reply-to", Field::kResentReplyTo},
    {"resent-to", Field::kResentTo},
    {"resent-cc", Field::kResentCc},
    {"resent-bcc", Field::kResentBcc},
    {"resent-date", Field::kResentDate},
    {"resent-message-id", Field::kResentMessageId},
    {"return-receipt-to", Field::kReturnReceiptTo},
    {"errors-to", Field::kErrorsTo},
    {"apparently-to", Field::kApparentlyTo},
    {"received", Field::kReceived},
    {"return-path", Field::kReturnPath},
    {"delivered-to", Field::kDeliveredTo},
    {"content-length", Field::kContentLength},
    {"content-type", Field::kContentType},
    {"content-transfer-encoding", Field::kContentTransferEncoding},
    {"notice-requested-upon-delivery-to", Field::kNoticeRequestedUponDeliveryTo},
    {"mail-followup-to", Field::kMailFollowupTo},
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The name ends where optional blanks and then ':' follow.
bool name_matches(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (lower(line[i]) != name[i]) return false;
  for (size_t i = name.size(); i < line.size(); ++i) {
    if (line[i] == ':') return true;
    if (line[i] != ' ' && line[i] != '\t') return false;
  }
  return false;
}

}  // namespace

Field field_type(std::string_view line) {
  for (const Known& k : kKnown)
    if (name_matches(line, k.name)) return k.field;
  return Field::kUnknown;
}

bool field_valid(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  size_t end = colon;
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0) return false;
  for (size_t i = 0; i < end; ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

}  // namespace qng::inject
