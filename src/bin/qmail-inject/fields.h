// fields.h: the header fields qmail-inject knows (qmail's hfield).
#pragma once

#include <string_view>

namespace qng::inject {

enum class Field {
  kUnknown,
  kSender, kFrom, kReplyTo, kTo, kCc, kBcc, kDate, kMessageId, kSubject,
  kResentSender, kResentFrom, kResentReplyTo, kResentTo, kResentCc, kResentBcc,
  kResentDate, kResentMessageId,
  kReturnReceiptTo, kErrorsTo, kApparentlyTo, kReceived, kReturnPath,
  kDeliveredTo, kContentLength, kContentType, kContentTransferEncoding,
  kNoticeRequestedUponDeliveryTo, kMailFollowupTo,
  kCount
};

// The field a header line starts, by its name (any letter case, then
// optional spaces or tabs, then ':'); kUnknown for any other name.
Field field_type(std::string_view line);

// Whether a line starts a header field: a name of printable non-space
// bytes, then optional spaces or tabs, then ':'.
bool field_valid(std::string_view line);

}  // namespace qng::inject
