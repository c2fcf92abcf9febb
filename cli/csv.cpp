#include "csv.h"

#include <stdexcept>

namespace bty::cli {

bool read_csv_record(std::istream& in, std::vector<std::string>& fields) {
  fields.clear();
  if (in.peek() == std::char_traits<char>::eof()) return false;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (int c; (c = in.get()) != std::char_traits<char>::eof();) {
    if (quoted) {
      if (c != '"')
        field += char(c);
      else if (in.peek() == '"')
        field += char(in.get());  // "" inside quotes: one quote
      else
        quoted = false;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      break;
    } else if (c != '\r' || in.peek() != '\n') {
      field += char(c);
    }
  }
  if (quoted) throw std::runtime_error("CSV: a quoted field is not closed before the end of the input");
  fields.push_back(std::move(field));
  return true;
}

CsvTable::CsvTable(std::istream& in) : in_(in) {
  std::vector<std::string> header;
  if (!read_csv_record(in_, header)) throw std::runtime_error("CSV: no header line");
  for (size_t i = 0; i < header.size(); ++i) column_[header[i]] = i;
}

bool CsvTable::next() { return read_csv_record(in_, record_); }

const std::string& CsvTable::operator[](const std::string& name) const {
  static const std::string empty;
  const auto it = column_.find(name);
  if (it == column_.end()) throw std::out_of_range("CSV: no column '" + name + "'");
  return it->second < record_.size() ? record_[it->second] : empty;
}

}  // namespace bty::cli
