#include "writer/row_rendering.h"

#include <algorithm>

#include "common/core/strings.h"
#include "common/postgres/copy_format.h"

namespace sfbridge::writer {

using core::StrCat;

void FieldIndex::Add(std::string_view name, int column) {
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  Insert(name, column);
  ++count_;
}

int FieldIndex::Find(std::string_view name) const {
  if (slots_.empty()) return -1;
  for (size_t i = Hash(name) & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.column < 0) return -1;
    if (s.name == name) return s.column;
  }
}

size_t FieldIndex::Hash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

void FieldIndex::Insert(std::string_view name, int column) {
  for (size_t i = Hash(name) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].column < 0) {
      slots_[i] = Slot{name, column};
      return;
    }
  }
}

void FieldIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.column >= 0) Insert(s.name, s.column);
  }
}

Layout::Layout(const TableMapping& mapping) {
  for (const auto& [field, info] : mapping.fields) {
    if (field == "Id") continue;
    by_field.Add(field, static_cast<int>(columns.size()));
    columns.push_back(Column{&field, info.column, info.type, info.base_type, KindOf(info.type)});
  }
}

Rendering Render(const std::vector<ChangeView>& changes, const std::vector<size_t>& indexes,
                 const Layout& layout, std::string_view object, RowFormat format) {
  const std::vector<Column>& columns = layout.columns;
  const bool copy = format == RowFormat::kCopyText;
  Rendering out;
  std::string& buf = out.buf;
  if (copy) {
    buf.reserve(indexes.size() * (32 + columns.size() * 12));
  } else {
    out.params.resize(indexes.size());
  }
  out.lines.resize(indexes.size());
  out.valid.assign(indexes.size(), false);
  std::string mask;
  std::vector<const FieldView*> slots(columns.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    const ChangeView& c = changes[indexes[k]];
    if (c.record_id().empty()) {
      out.parked.emplace_back(k, "empty record_id");
      continue;
    }
    if (c.system_modstamp_ms() <= 0) {
      out.parked.emplace_back(k, "no SystemModstamp");
      continue;
    }
    Line& line = out.lines[k];
    std::vector<postgres::Value>* params = copy ? nullptr : &out.params[k];
    line.begin = buf.size();
    if (copy) {
      postgres::AppendCopyEscaped(buf, c.record_id());
      buf.push_back('\t');
      postgres::AppendCopyInt(buf, c.system_modstamp_ms());
    } else {
      params->emplace_back(std::string(c.record_id()));
      params->emplace_back(std::to_string(c.system_modstamp_ms()));
    }
    std::string reason;
    if (c.deleted()) {
      for (size_t col = 0; copy && col < columns.size(); ++col) buf.append("\t\\N");
    } else {
      mask.assign(columns.size(), '0');
      std::fill(slots.begin(), slots.end(), nullptr);
      // A name listed twice: the later entry counts, as in the map.
      for (const FieldEntry& f : c.fields()) {
        if (int col = layout.by_field.Find(f.name); col >= 0) {
          slots[col] = &f.value;
        } else if (f.name != "Id") {
          reason = StrCat("unknown field ", f.name, " of ", object);
          break;
        }
      }
      for (size_t col = 0; col < columns.size() && reason.empty(); ++col) {
        absl::Status s;
        if (copy) {
          buf.push_back('\t');
          if (!slots[col]) {
            buf.append(postgres::kCopyNull);
            continue;
          }
          s = AppendCopyValue(buf, *slots[col], columns[col].kind);
        } else if (!slots[col]) {
          params->emplace_back(std::nullopt);
          continue;
        } else {
          absl::StatusOr<postgres::Value> text = ValueText(*slots[col], columns[col].kind);
          s = text.status();
          if (s.ok()) params->push_back(*std::move(text));
        }
        mask[col] = '1';
        if (!s.ok()) {
          reason = StrCat("field ", *columns[col].field, " of ", object, ": ", s.message());
        }
      }
      if (reason.empty()) {
        line.group =
            out.groups.try_emplace(mask, static_cast<int>(out.groups.size())).first->second;
      }
    }
    if (!reason.empty()) {
      if (copy) buf.resize(line.begin);
      if (!copy) params->clear();
      out.parked.emplace_back(k, std::move(reason));
      continue;
    }
    if (copy) {
      line.body_end = buf.size();
      buf.append(c.deleted() ? "\tt\t\\N\n" : "\tf\t");
      if (!c.deleted()) {
        postgres::AppendCopyInt(buf, line.group);
        buf.push_back('\n');
      }
      line.end = buf.size();
    }
    out.valid[k] = true;
  }
  return out;
}

}  // namespace sfbridge::writer
