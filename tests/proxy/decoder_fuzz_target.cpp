#include "tests/proxy/decoder_fuzz_target.h"

#include "proxy/pg_wire.h"
#include "proxy/statement_text.h"

namespace sfbridge::proxy::testing {
namespace {

size_t DecodeMessage(const wire::Frame& f) {
  size_t n = 0;
  switch (f.type) {
    case 'Q':
      n += wire::ReadQuery(f.body).ok();
      break;
    case 'P':
      n += wire::ReadParse(f.body).ok();
      break;
    case 'B': {
      auto bind = wire::ReadBind(f.body);
      if (bind.ok()) {
        n += wire::ExpandFormats(bind->param_formats, bind->values.size()).ok();
        n += wire::ExpandFormats(bind->result_formats, 3).ok();
      }
      break;
    }
    case 'D':
      n += wire::ReadDescribe(f.body).ok();
      break;
    case 'E':
      n += wire::ReadExecute(f.body).ok();
      break;
    default:
      break;
  }
  // The same body read as each backend message too: the proxy parses those from the server.
  n += wire::ReadRowDescription(f.body).ok();
  n += wire::ReadDataRow(f.body).ok();
  n += wire::ReadCommandComplete(f.body).ok();
  n += wire::ReadReadyForQuery(f.body).ok();
  auto fields = wire::ReadFields(f.body);
  if (fields.ok()) n += wire::ToPgError(*fields).message.size() > 0;
  n += wire::ReadAuthRequest(f.body).ok();
  n += wire::ReadBackendKeyData(f.body).ok();
  n += MayWrite(f.body);
  return n;
}

}  // namespace

size_t DecodeEverything(std::string_view data) {
  size_t n = 0;
  constexpr size_t kMax = 1 << 20;
  // A client: one startup packet, then messages.
  std::string_view rest = data;
  wire::Frame frame;
  if (wire::DecodeStartupFrame(rest, 10000, &frame) == wire::DecodeResult::kFrame) {
    n += wire::ParseStartup(frame.body).ok();
    rest.remove_prefix(frame.size);
  }
  while (wire::DecodeFrame(rest, kMax, &frame) == wire::DecodeResult::kFrame) {
    n += 1 + DecodeMessage(frame);
    rest.remove_prefix(frame.size);
  }
  // The whole input as regular messages from its first byte.
  rest = data;
  while (wire::DecodeFrame(rest, kMax, &frame) == wire::DecodeResult::kFrame) {
    n += 1 + DecodeMessage(frame);
    rest.remove_prefix(frame.size);
  }
  return n;
}

}  // namespace sfbridge::proxy::testing
