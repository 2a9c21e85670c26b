// DataDir: a folder holding many databases.
//
// Each database is one LMDB file in the folder (see docs/storage.md). Open
// the folder once per process; a second process opening the same folder is
// refused, because divan's group commit and change notification live in one
// process.
//
// Thread-safety: every method is thread-safe.
#ifndef DIVAN_DATA_DIR_H_
#define DIVAN_DATA_DIR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "divan/database.h"
#include "divan/options.h"
#include "divan/status.h"

namespace divan {

class DataDir {
 public:
  virtual ~DataDir() = default;
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  // Opens the folder `path`, creating it if missing (options.create_if_missing).
  // Errors: io_error (cannot create or lock the folder, or another process
  // has it open), not_found (missing and not to be created).
  // The caller owns the DataDir; databases obtained from it may outlive it.
  static Result<std::unique_ptr<DataDir>> open(const std::string& path,
                                               const DataDirOptions& options = {});

  virtual const std::string& path() const = 0;

  // This data folder's identity: 32 lowercase hex digits, made at random
  // when the folder is first opened and kept in it for good (CouchDB's
  // server uuid, which PouchDB's replication ids depend on).
  virtual const std::string& uuid() const = 0;

  // A new id for a document: 32 hex digits from CouchDB's "sequential"
  // algorithm (ids made close in time sort close together). The ids
  // Database::put gives documents without one come from here too.
  virtual std::string new_uuid() = 0;

  // Creates the database `name`. Errors: illegal_database_name,
  // file_exists ("The database could not be created, the file already
  // exists."), io_error.
  virtual Result<std::shared_ptr<Database>> create_database(std::string_view name) = 0;

  // Opens the existing database `name`. The same name gives the same shared
  // Database while anyone holds it. Errors: not_found "Database does not
  // exist.", illegal_database_name, corruption, io_error.
  virtual Result<std::shared_ptr<Database>> open_database(std::string_view name) = 0;

  // Deletes the database `name` and its file. Handles still held fail from
  // then on. Errors: not_found "Database does not exist.",
  // illegal_database_name, io_error.
  virtual Status delete_database(std::string_view name) = 0;

  // Every database name, sorted.
  virtual Result<std::vector<std::string>> list_databases() = 0;

  // CouchDB's rule for database names: ^[a-z][a-z0-9_$()+/-]*$, or one of
  // the system databases (_users, _replicator, _global_changes), at most
  // 238 characters. Errors: illegal_database_name with CouchDB's reason.
  static Status validate_database_name(std::string_view name);

 protected:
  DataDir() = default;
};

}  // namespace divan

#endif  // DIVAN_DATA_DIR_H_
