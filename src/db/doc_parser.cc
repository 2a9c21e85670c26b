#include "db/doc_parser.h"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <pthread.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_set>
#include <utility>

#include "db/names.h"

namespace divan::db {
namespace {

using rapidjson::SizeType;

// Iterative parsing keeps the nesting on the heap. Recursive parsing is
// ~10% faster but takes ~256 bytes of stack per level (~130 KiB at
// kMaxDepth): only when asked for (ParseLimits) on a thread with a large
// stack (stack_allows_recursion()).
constexpr unsigned kParseFlags = rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;
constexpr unsigned kIterative = rapidjson::kParseIterativeFlag;
// For input that is all ASCII, which is valid UTF-8 as it stands, the
// reader need not check each byte.
constexpr unsigned kNoValidation = ~rapidjson::kParseValidateEncodingFlag;
// Deeper nesting than this is refused, so hostile input cannot exhaust
// memory or time in recursive code further up.
constexpr std::size_t kMaxDepth = 512;
// Objects with more keys than this check for repeats with a hash set.
constexpr std::size_t kLinearKeyCheck = 32;

const char kInvalidJson[] = "invalid UTF-8 JSON";

// Which special member a top-level "_" key names.
enum class Special {
  kNone,
  kId,
  kRev,
  kDeleted,
  kRevisions,
  kAttachments,
  kIgnored,  // accepted and dropped: _revs_info, _conflicts, ...
};

Special classify(std::string_view key, bool* keep_in_body, bool* bad) {
  *keep_in_body = false;
  *bad = false;
  if (key == "_id") return Special::kId;
  if (key == "_rev") return Special::kRev;
  if (key == "_deleted") return Special::kDeleted;
  if (key == "_revisions") return Special::kRevisions;
  if (key == "_attachments") return Special::kAttachments;
  if (key == "_revs_info" || key == "_conflicts" || key == "_deleted_conflicts" ||
      key == "_local_seq") {
    return Special::kIgnored;
  }
  if (key == "_access" || key == "_replication_state" || key == "_replication_state_time" ||
      key == "_replication_state_reason" || key == "_replication_id" ||
      key == "_replication_stats") {
    *keep_in_body = true;
    return Special::kNone;
  }
  *bad = true;
  return Special::kNone;
}

// Identifies one member of one body object across the two passes of the
// slow (repeated keys) route: the object's ordinal in the input and the
// member's index in the object.
using MemberRef = std::pair<std::size_t, std::size_t>;

// The SAX handler. Documents live at depth doc_depth_ (1 for a lone document,
// 2 inside an array). Body members go to body_writer_; the values of special
// members go to capture_writer_ (or are handled directly when scalar).
class DocHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DocHandler> {
 public:
  enum class Pass {
    kFast,     // write bodies; stop at the first repeated key
    kAnalyse,  // find repeated keys only
    kWrite,    // write bodies, skipping the members in `skip`
  };

  // Documents go to `out`, or, with a `sink`, to the sink, all but the first
  // `skip_docs` (handed over by an earlier pass).
  DocHandler(bool array, const ParseLimits& limits, Pass pass, const std::set<MemberRef>* skip,
             std::vector<ParsedDoc>* out, const DocSink* sink = nullptr, std::size_t skip_docs = 0,
             std::vector<std::string>* spare_bodies = nullptr)
      : array_(array), doc_depth_(array ? 2 : 1), limits_(limits), pass_(pass), skip_(skip),
        out_(out), sink_(sink), skip_docs_(skip_docs), spare_bodies_(spare_bodies) {}

  std::size_t completed() const { return completed_; }

  // The text being parsed in situ, and an unchanged copy of it (both
  // optional; without them every string goes through Writer::String).
  void set_texts(const char* insitu, const char* original) {
    insitu_ = insitu;
    original_ = original;
  }

  const Status& error() const { return error_; }
  bool repeated_key() const { return repeated_key_; }
  const std::set<MemberRef>& shadowed() const { return shadowed_; }

  // ---- SAX events ----
  bool Null() { return scalar_value(kNull, {}); }
  bool Bool(bool b) { return scalar_value(b ? kTrue : kFalse, {}); }
  bool RawNumber(const char* s, SizeType n, bool) { return scalar_value(kNumber, {s, n}); }
  bool String(const char* s, SizeType n, bool) { return scalar_value(kString, {s, n}); }
  bool StartObject() { return start(true); }
  bool StartArray() { return start(false); }
  bool Key(const char* s, SizeType n, bool) { return key({s, n}); }
  bool EndObject(SizeType) { return end(true); }
  bool EndArray(SizeType) { return end(false); }

 private:
  enum ScalarKind { kNull, kTrue, kFalse, kNumber, kString };

  bool fail(Status s) {
    if (error_.is_ok()) error_ = std::move(s);
    return false;
  }

  // Writes a scalar to `w`.
  template <typename Writer>
  static void write_scalar(Writer& w, ScalarKind kind, std::string_view text) {
    switch (kind) {
      case kNull: w.Null(); break;
      case kTrue: w.Bool(true); break;
      case kFalse: w.Bool(false); break;
      // RapidJSON 1.1's Writer::RawNumber quotes its argument; RawValue does not.
      case kNumber: w.RawValue(text.data(), text.size(), rapidjson::kNumberType); break;
      case kString: w.String(text.data(), static_cast<SizeType>(text.size())); break;
    }
  }

  bool writing() const { return pass_ != Pass::kAnalyse; }

  bool scalar_value(ScalarKind kind, std::string_view text) {
    if (capture_depth_ > 0) {
      if (!discard_) write_scalar(capture_writer_, kind, text);
      return true;
    }
    if (depth_ < doc_depth_) return expect_container(false);
    if (special_ != Special::kNone) return special_scalar(kind, text);
    if (writing()) {
      if (kind == kString) {
        write_body_string(text);
      } else {
        write_scalar(body_writer_, kind, text);
      }
    }
    return true;
  }

  // Writes a string (a value or a key) of a body. A string that was sent
  // without escapes needs none (JSON text holds no raw '"', '\\' or control
  // characters), so Writer::String would write its bytes between quotes as
  // they are: that is done directly, which is most of the strings of most
  // documents. The writer is still told of the value, for its separators.
  void write_body_string(std::string_view decoded) {
    if (!sent_unescaped(decoded)) {
      body_writer_.String(decoded.data(), static_cast<SizeType>(decoded.size()));
      return;
    }
    body_writer_.RawValue("\"", 1, rapidjson::kStringType);
    char* out = body_buffer_.Push(decoded.size() + 1);
    std::memcpy(out, decoded.data(), decoded.size());
    out[decoded.size()] = '"';
  }

  // True if `decoded`, a string the in-situ parse decoded in place, had no
  // escape sequence in the input. Decoding writes from where the string
  // started, so the input's text is at the same offset; an escape would
  // have begun within the first decoded.size() bytes (each one decodes to
  // at least one byte), so a backslash there is the only sign of one.
  bool sent_unescaped(std::string_view decoded) const {
    if (insitu_ == nullptr) return false;
    const char* sent = original_ + (decoded.data() - insitu_);
    const std::size_t n = decoded.size();
    // Eight bytes at a time: most strings are short, and a call to memchr
    // cost more than the test.
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, sent + i, 8);
      const std::uint64_t x = word ^ (kOnes * '\\');  // a zero byte where a '\\' was
      if (((x - kOnes) & ~x & (kOnes << 7)) != 0) return false;
    }
    for (; i < n; ++i) {
      if (sent[i] == '\\') return false;
    }
    return true;
  }

  bool start(bool object) {
    ++depth_;
    // Every object of the input gets an ordinal, however it is routed, so
    // the passes of the repeated-key route agree on them.
    std::size_t ordinal = object ? next_ordinal_++ : 0;
    if (depth_ > kMaxDepth) return fail(Status::bad_request("JSON nesting is too deep"));
    if (capture_depth_ > 0) {
      ++capture_depth_;
      if (!discard_) object ? capture_writer_.StartObject() : capture_writer_.StartArray();
      return true;
    }
    if (depth_ <= doc_depth_) {
      if (depth_ < doc_depth_) {  // the array around the documents
        if (object) return fail(Status::bad_request("`docs` parameter must be an array."));
        return true;
      }
      if (!object) return expect_container(true);
      begin_document();
      if (writing()) body_writer_.StartObject();
      push_object(ordinal);
      return true;
    }
    if (special_ != Special::kNone) {  // a structured special value
      capture_buffer_.Clear();
      capture_writer_.Reset(capture_buffer_);
      discard_ = special_ == Special::kIgnored;
      capture_depth_ = 1;
      if (!discard_) object ? capture_writer_.StartObject() : capture_writer_.StartArray();
      return true;
    }
    if (writing()) object ? body_writer_.StartObject() : body_writer_.StartArray();
    if (object) push_object(ordinal);
    return true;
  }

  bool end(bool object) {
    --depth_;
    if (capture_depth_ > 0) {
      if (!discard_) object ? capture_writer_.EndObject() : capture_writer_.EndArray();
      if (--capture_depth_ == 0) return finish_special();
      return true;
    }
    if (depth_ + 1 < doc_depth_) return true;  // the closing of the array
    if (writing()) object ? body_writer_.EndObject() : body_writer_.EndArray();
    if (object) pop_object();
    if (depth_ + 1 == doc_depth_) return finish_document();
    return true;
  }

  bool key(std::string_view k) {
    if (capture_depth_ > 0) {
      if (!discard_) capture_writer_.Key(k.data(), static_cast<SizeType>(k.size()));
      return true;
    }
    if (depth_ == doc_depth_ && !k.empty() && k[0] == '_') {
      bool keep = false, bad = false;
      Special s = classify(k, &keep, &bad);
      if (bad) {
        return fail(Status(ErrorCode::kDocValidation,
                           "Bad special document member: " + std::string(k)));
      }
      if (!keep) {
        special_ = s;
        return true;
      }
    }
    // A body member. Check it against the earlier keys of its object.
    ObjectKeys& obj = objects_.back();
    std::size_t index = obj.count++;
    if (pass_ == Pass::kWrite && skip_->count({obj.ordinal, index})) {
      // An earlier occurrence of a repeated key: drop its value.
      special_ = Special::kIgnored;
      return true;
    }
    if (is_repeat(obj, k)) {
      if (pass_ == Pass::kFast) {
        repeated_key_ = true;
        return false;
      }
      if (pass_ == Pass::kAnalyse) {
        // Every earlier member with this key is shadowed by this one.
        for (std::size_t i = obj.start; i < keys_.size(); ++i) {
          if (keys_[i].first == k) shadowed_.insert({obj.ordinal, keys_[i].second});
        }
      }
    }
    remember_key(obj, k, index);
    if (writing()) write_body_string(k);
    return true;
  }

  // ---- documents ----

  bool expect_container(bool was_array) {
    (void)was_array;
    if (depth_ + 1 < doc_depth_ || (array_ && depth_ == 0)) {
      return fail(Status::bad_request("`docs` parameter must be an array."));
    }
    return fail(Status::bad_request("Document must be a JSON object"));
  }

  void begin_document() {
    doc_ = ParsedDoc();
    has_id_ = false;
    has_revisions_ = false;
    body_buffer_.Clear();
    body_writer_.Reset(body_buffer_);
  }

  bool finish_document() {
    if (pass_ == Pass::kAnalyse) return true;
    if (!limits_.id.empty()) {
      doc_.id.assign(limits_.id);
      has_id_ = true;
    }
    if (has_id_) {
      if (Status s = validate_doc_id(doc_.id); !s.is_ok()) return fail(std::move(s));
    }
    if (has_revisions_ && !is_local_id(doc_.id) && !parse_revisions(revisions_text_)) return false;
    if (spare_bodies_ != nullptr && !spare_bodies_->empty()) {
      doc_.body = std::move(spare_bodies_->back());
      spare_bodies_->pop_back();
    }
    doc_.body.assign(body_buffer_.GetString(), body_buffer_.GetSize());
    if (doc_.body.size() > limits_.max_document_size) {
      return fail(Status(ErrorCode::kDocumentTooLarge, doc_.id));
    }
    if (sink_ == nullptr) {
      out_->push_back(std::move(doc_));
    } else if (completed_ >= skip_docs_) {
      if (Status s = (*sink_)(std::move(doc_)); !s.is_ok()) return fail(std::move(s));
    }
    ++completed_;
    return true;
  }

  bool special_scalar(ScalarKind kind, std::string_view text) {
    Special s = std::exchange(special_, Special::kNone);
    if (pass_ == Pass::kAnalyse) return true;
    switch (s) {
      case Special::kId:
        if (kind != kString) return fail(Status::bad_request("Document id must be a string"));
        doc_.id.assign(text);
        has_id_ = true;
        return true;
      case Special::kRev: {
        if (kind != kString) return fail(Status::bad_request("Invalid rev format"));
        auto rev = rev::RevId::parse(text);
        if (!rev.is_ok()) return fail(rev.status());
        doc_.rev = std::move(rev.value());
        return true;
      }
      case Special::kDeleted:
        if (kind != kTrue && kind != kFalse) {
          return fail(Status(ErrorCode::kDocValidation, "Bad special document member: _deleted"));
        }
        doc_.deleted = kind == kTrue;
        return true;
      case Special::kRevisions:
        return fail(Status(ErrorCode::kDocValidation, "_revisions must be an object."));
      case Special::kAttachments:
        if (kind == kNull) return true;
        return fail(Status::bad_request("_attachments must be an object."));
      case Special::kIgnored:
      case Special::kNone:
        return true;
    }
    return true;
  }

  bool finish_special() {
    Special s = std::exchange(special_, Special::kNone);
    if (pass_ == Pass::kAnalyse || discard_) return true;
    std::string_view text(capture_buffer_.GetString(), capture_buffer_.GetSize());
    switch (s) {
      case Special::kId:
        return fail(Status::bad_request("Document id must be a string"));
      case Special::kRev:
        return fail(Status::bad_request("Invalid rev format"));
      case Special::kDeleted:
        return fail(Status(ErrorCode::kDocValidation, "Bad special document member: _deleted"));
      case Special::kRevisions:
        // Checked once the document is complete: _local documents accept
        // and drop it (CouchDB's replicator sends one with checkpoints),
        // and the id may come after it.
        revisions_text_.assign(text);
        has_revisions_ = true;
        return true;
      case Special::kAttachments:
        if (text == "{}") return true;
        // Attachments are stored by digest in a later version; until then a
        // document carrying them is refused rather than stored without them.
        if (text.front() != '{') return fail(Status::bad_request("_attachments must be an object."));
        return fail(Status::bad_request("Attachments are not supported by this version of divan."));
      case Special::kIgnored:
      case Special::kNone:
        return true;
    }
    return true;
  }

  bool parse_revisions(std::string_view text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) {
      return fail(Status(ErrorCode::kDocValidation, "_revisions must be an object."));
    }
    auto start = d.FindMember("start");
    if (start == d.MemberEnd() || !start->value.IsUint64()) {
      return fail(Status(ErrorCode::kDocValidation, "_revisions.start isn't an integer."));
    }
    auto ids = d.FindMember("ids");
    if (ids == d.MemberEnd() || !ids->value.IsArray()) {
      return fail(Status(ErrorCode::kDocValidation, "_revisions.ids isn't a array."));
    }
    std::uint64_t pos = start->value.GetUint64();
    const auto& arr = ids->value.GetArray();
    if (arr.Size() == 0 || pos < arr.Size() || pos > (std::uint64_t{1} << 53)) {
      return fail(Status::bad_request("Invalid rev format"));
    }
    std::vector<rev::RevId> path;
    path.reserve(arr.Size());
    for (const auto& v : arr) {
      if (!v.IsString()) return fail(Status::bad_request("Invalid rev format"));
      rev::RevId r{pos--, std::string(v.GetString(), v.GetStringLength())};
      if (Status st = rev::normalize_rev_hash(r.hash); !st.is_ok()) return fail(std::move(st));
      path.push_back(std::move(r));
    }
    doc_.revisions = std::move(path);
    return true;
  }

  // ---- repeated keys ----

  struct ObjectKeys {
    std::size_t ordinal = 0;  // which body object of the input this is
    std::size_t start = 0;    // its first entry in keys_
    std::size_t count = 0;    // members seen so far
    std::uint64_t seen = 0;   // key_bit() of every key so far
    std::unique_ptr<std::unordered_set<std::string_view>> set;  // once large
  };

  // One of 64 bits for a key, from a cheap hash: a key whose bit is not yet
  // set in its object is not a repeat, which spares most keys the search.
  static std::uint64_t key_bit(std::string_view k) {
    std::size_t h = k.size() * 7;
    if (!k.empty()) h += static_cast<unsigned char>(k.front()) * 3 + static_cast<unsigned char>(k.back());
    return std::uint64_t{1} << (h & 63);
  }

  void push_object(std::size_t ordinal) {
    ObjectKeys o;
    o.ordinal = ordinal;
    o.start = keys_.size();
    objects_.push_back(std::move(o));
  }
  void pop_object() {
    keys_.resize(objects_.back().start);
    objects_.pop_back();
  }

  bool is_repeat(ObjectKeys& obj, std::string_view k) const {
    if ((obj.seen & key_bit(k)) == 0) return false;
    if (obj.set) return obj.set->count(k) > 0;
    for (std::size_t i = obj.start; i < keys_.size(); ++i) {
      if (keys_[i].first == k) return true;
    }
    return false;
  }

  void remember_key(ObjectKeys& obj, std::string_view k, std::size_t index) {
    keys_.emplace_back(k, index);
    obj.seen |= key_bit(k);
    if (obj.set) {
      obj.set->insert(k);
    } else if (keys_.size() - obj.start > kLinearKeyCheck) {
      obj.set = std::make_unique<std::unordered_set<std::string_view>>();
      for (std::size_t i = obj.start; i < keys_.size(); ++i) obj.set->insert(keys_[i].first);
    }
  }

  const bool array_;
  const std::size_t doc_depth_;
  const ParseLimits& limits_;
  const Pass pass_;
  const std::set<MemberRef>* skip_;
  std::vector<ParsedDoc>* out_;
  const DocSink* sink_;
  const std::size_t skip_docs_;
  std::vector<std::string>* const spare_bodies_;
  std::size_t completed_ = 0;  // documents finished in this pass
  const char* insitu_ = nullptr;
  const char* original_ = nullptr;

  Status error_;
  bool repeated_key_ = false;
  std::set<MemberRef> shadowed_;

  std::size_t depth_ = 0;
  Special special_ = Special::kNone;
  std::size_t capture_depth_ = 0;
  bool discard_ = false;

  ParsedDoc doc_;
  bool has_id_ = false;
  bool has_revisions_ = false;
  std::string revisions_text_;
  rapidjson::StringBuffer body_buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> body_writer_{body_buffer_};
  rapidjson::StringBuffer capture_buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> capture_writer_{capture_buffer_};

  // Keys of the open body objects (pointing into the in-situ buffer) with
  // their member index.
  std::vector<std::pair<std::string_view, std::size_t>> keys_;
  std::vector<ObjectKeys> objects_;
  std::size_t next_ordinal_ = 0;
};

// Whether this thread's stack has room for a recursive parse at kMaxDepth
// (~130 KiB) with a wide margin. Asked once per thread: threads divan
// starts get the default stack (8 MiB on Linux), but the limit a process
// sets (RLIMIT_STACK) decides that default, and could be small.
bool stack_allows_recursion() {
  thread_local const bool allowed = [] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
    std::size_t size = 0;
    const bool known = pthread_attr_getstacksize(&attr, &size) == 0;
    pthread_attr_destroy(&attr);
    return known && size >= (std::size_t{1} << 20);
  }();
  return allowed;
}

// Runs one pass over a private, NUL-terminated copy of `json` (in-situ
// parsing writes into its input). The copy ends in kNulPadding NULs, not
// one: validating UTF-8, rapidjson takes every continuation byte a lead byte
// announces before it checks any, so a text cut inside a 4-byte sequence
// makes it read 3 bytes from the cut on, past a single terminator.
constexpr std::size_t kNulPadding = 4;

// True if every byte of `text` is below 0x80.
bool is_ascii(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t high = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    high |= word;
  }
  for (; i < text.size(); ++i) high |= static_cast<unsigned char>(text[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

Status run_pass(std::string_view json, bool ascii, bool recursive, DocHandler& handler,
                std::string& scratch) {
  scratch.reserve(json.size() + kNulPadding);  // one allocation for both
  scratch.assign(json);
  scratch.append(kNulPadding, '\0');
  rapidjson::InsituStringStream stream(scratch.data());
  handler.set_texts(scratch.data(), json.data());
  rapidjson::Reader reader;
  rapidjson::ParseResult r;
  if (recursive && stack_allows_recursion()) {
    r = ascii ? reader.Parse<kParseFlags & kNoValidation>(stream, handler)
              : reader.Parse<kParseFlags>(stream, handler);
  } else {
    r = ascii ? reader.Parse<(kParseFlags | kIterative) & kNoValidation>(stream, handler)
              : reader.Parse<kParseFlags | kIterative>(stream, handler);
  }
  if (!handler.error().is_ok()) return handler.error();
  if (r.IsError()) return Status::bad_request(kInvalidJson);
  return Status::ok();
}

// Parses into `out`, or hands each document to `sink` when it is given.
Status parse(std::string_view json, bool array, const ParseLimits& limits,
             std::vector<ParsedDoc>* out, const DocSink* sink = nullptr,
             const ParseBuffers& buffers = {}) {
  // In-situ parsing stops at a NUL byte, which valid JSON text never holds.
  if (std::memchr(json.data(), '\0', json.size()) != nullptr) {
    return Status::bad_request(kInvalidJson);
  }
  const bool ascii = is_ascii(json);
  std::string own;
  std::string& scratch = buffers.scratch != nullptr ? *buffers.scratch : own;
  std::size_t first = out->size();
  std::size_t handed = 0;  // documents the sink has already had
  {
    DocHandler fast(array, limits, DocHandler::Pass::kFast, nullptr, out, sink, 0,
                    buffers.spare_bodies);
    Status s = run_pass(json, ascii, limits.recursive, fast, scratch);
    if (!fast.repeated_key()) {
      if (!s.is_ok()) out->resize(first);
      return s;
    }
    handed = fast.completed();  // all before the one with the repeated key
  }
  // Some object repeats a key: find which members are shadowed, then write
  // the bodies without them.
  out->resize(first);
  DocHandler analyse(array, limits, DocHandler::Pass::kAnalyse, nullptr, out);
  if (Status s = run_pass(json, ascii, limits.recursive, analyse, scratch); !s.is_ok()) return s;
  std::set<MemberRef> skip = analyse.shadowed();
  DocHandler write(array, limits, DocHandler::Pass::kWrite, &skip, out, sink, handed,
                   buffers.spare_bodies);
  Status s = run_pass(json, ascii, limits.recursive, write, scratch);
  if (!s.is_ok()) out->resize(first);
  return s;
}

}  // namespace

Status parse_document(std::string_view json, const ParseLimits& limits, ParsedDoc* out) {
  std::vector<ParsedDoc> docs;
  Status s = parse(json, false, limits, &docs);
  if (!s.is_ok()) return s;
  if (docs.size() != 1) return Status::bad_request("Document must be a JSON object");
  *out = std::move(docs[0]);
  return Status::ok();
}

Status parse_document_array(std::string_view json, const ParseLimits& limits,
                            std::vector<ParsedDoc>* out) {
  out->clear();
  return parse(json, true, limits, out);
}

Status parse_document_array(std::string_view json, const ParseLimits& limits,
                            const DocSink& sink, const ParseBuffers& buffers) {
  std::vector<ParsedDoc> unused;
  return parse(json, true, limits, &unused, &sink, buffers);
}

}  // namespace divan::db
