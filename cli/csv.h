// CSV input (RFC 4180): fields separated by commas, optionally in double quotes; a quoted field may hold commas,
// newlines and doubled quotes (""). For the shared data's manifest.csv; the project's own outputs are JSON.
#pragma once
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace bty::cli {

// Reads the next record into `fields`; false at the end of the input. A CR before the line end is dropped.
// Throws std::runtime_error on a quote that is never closed.
bool read_csv_record(std::istream& in, std::vector<std::string>& fields);

// A CSV file with a header line: the fields of each record by column name.
class CsvTable {
 public:
  explicit CsvTable(std::istream& in);  // reads the header; throws std::runtime_error if there is none
  bool next();                          // the next record; false at the end
  // The field of the current record in column `name` ("" when the record is short); throws std::out_of_range
  // naming the column when the header has no such column.
  const std::string& operator[](const std::string& name) const;

 private:
  std::istream& in_;
  std::map<std::string, size_t> column_;
  std::vector<std::string> record_;
};

}  // namespace bty::cli
