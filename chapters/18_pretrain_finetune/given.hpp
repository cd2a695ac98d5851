// Chapter 18 — given code (not an exercise), defined in chapters/18_pretrain_finetune/given/ and compiled
// with both the reference and your exercise, so LoRA trains on the lora_backward and merge_lora it is
// linked with. What it holds: the pretraining corpus — the rest of Debian's fortunes-zh (`chinese` and
// `song100`), read, cleaned, counted by kind — and its leakage removed: every entry that shares a line,
// or a run of 8 or more characters, with one of chapter 16's validation or test poems; LoRA adapters on
// chapter 16's TinyGPT: their start, their merge into the model, their gradients, their optimizer; and
// a PyTorch TinyGPT with adapters read from its files (--load).
#pragma once
#include "16_tiny_gpt/given.hpp"  // Poem, load_tang300, poem_part, decode_utf8
#include "18_pretrain_finetune/contract.hpp"

#include <cstddef>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace course {

// --- the pretraining text -------------------------------------------------------------------------------

// Where Debian's fortunes-zh package puts its other two files (UTF-8), beside kTang300Path.
constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
constexpr const char* kChineseFile = "chinese";  // 5,263 entries: proverbs, 论语, 诗经, verse, Debian's docs
constexpr const char* kSong100File = "song100";  // 95 entries: poems of the Song dynasty

// split_fortunes — the entries of a fortune file: the runs of lines between lines "%" (a trailing '\r'
// is ignored), each entry's lines joined by '\n', in file order. Entries with no character but
// whitespace are left out.
std::vector<std::string> split_fortunes(const std::string& text);

// is_cjk — a CJK ideograph: the Unified Ideographs (U+4E00–U+9FFF), extension A (U+3400–U+4DBF), the
// compatibility ideographs (U+F900–U+FAFF) and extensions B and on (U+20000–U+3134F).
bool is_cjk(char32_t c);

// One entry, cleaned: what a model would read of it, and the attribution it came with.
struct CleanEntry {
  std::u32string text;         // the kept lines, each followed by '\n'; empty if nothing was kept
  std::u32string attribution;  // the attribution line ("-- 李白《清明》"), or the 题目:/作者: lines, or ""
  std::u32string first_line;  // the first kept line (《詩經‧ 國風‧ 周南‧ 關雎》 for 诗经's entries)
};

// clean_fortune — one entry of split_fortunes, line by line:
//   1. colour codes removed: ESC '[' up to and including the next 'm' ("\x1b[33m", "\x1b[;m", "\x1b[37;1m");
//   2. indentation removed: leading spaces, tabs, U+00A0 (no-break space) and U+3000 (ideographic
//      space); trailing ones too;
//   3. empty lines dropped;
//   4. song100's header lines, starting "题目:" or "作者:", moved to the attribution;
//   5. the last line, when it starts with "--" or "——" ("    -- Debian 《Debian 自由软件方针》第五条"),
//      moved to the attribution. A dash line elsewhere ("—— 网络基础设施。") is text and kept.
// Throws std::invalid_argument when the entry is not valid UTF-8.
CleanEntry clean_fortune(const std::string& entry);

// The kinds of entry told apart from the text alone (the attribution, the first line, the file, the
// lines' shape), in the order the program prints them; kind_of returns the first that matches:
//   诗经       the first line starts with 《詩經 (the entries are titled, in traditional characters)
//   论语       the attribution holds 论语 ("--《论语》", "-- 论语，为政篇")
//   道德经, 谚语, 增广贤文, 菜根谭   the attribution holds 《道德经》, 《谚语》, 《增广贤文》, 《菜根谭》
//   Debian     the attribution holds "Debian" or "Osamu Aoki" (Debian's reference card, its manuals)
//   song100    every entry of song100 (poems of the Song dynasty)
//   五七言     every half-line is 5 or 7 CJK characters (is_five_or_seven): verse of the poems' shape,
//              mostly couplets quoted from classical poems
//   other      the rest: 词, modern prose and verse, books, chat logs, Latin text ...
const std::vector<std::string>& entry_kinds();
std::string kind_of(const CleanEntry& entry, const std::string& file);

// is_five_or_seven — whether the text, cut into half-lines at line breaks and at ，。？！；、：, has at
// least one half-line and every one is 5 or 7 CJK characters (is_cjk): "床前明月光，疑是地上霜。" is,
// "花褪残红青杏小。燕子飞时，" is not (4).
bool is_five_or_seven(const std::u32string& text);

// One entry of the pretraining corpus.
struct FortuneEntry {
  std::u32string text;  // cleaned (clean_fortune), never empty
  std::string kind;     // one of entry_kinds()
  std::string file;     // "chinese" or "song100"
};

// read_fortunes — the cleaned entries of one fortune file, in file order (entries that clean to nothing
// are left out). A missing or unreadable file is a usage_error naming it and the package ("...:
// fortunes-zh's file: install Debian's fortunes-zh package (./course setup)"); a file that is not UTF-8
// is one too, naming the entry.
std::vector<FortuneEntry> read_fortunes(const std::string& dir, const std::string& file);

// What a corpus holds: entries, characters (code points, line breaks included), CJK characters
// (is_cjk), the vocabulary (distinct code points), and entries and characters per kind, in
// entry_kinds() order.
struct CorpusStats {
  std::size_t entries = 0, characters = 0, cjk = 0, vocabulary = 0;
  std::vector<std::size_t> entries_by_kind, characters_by_kind;  // (kinds)
};
CorpusStats corpus_stats(const std::vector<FortuneEntry>& entries);

// --- leakage ----------------------------------------------------------------------------------------------

// The held-out poems of chapter 16's split (poem_part: validation and test, whole poems): what the
// pretraining text may not contain.
std::vector<Poem> held_out_poems(const std::vector<Poem>& poems);

// A text with its line breaks removed: runs are looked for across them ("床前明月光，\n疑是地上霜。"
// holds the run "光，疑是地上霜。").
std::u32string without_line_breaks(const std::u32string& text);

// What an entry may not share with the held-out poems: their lines, and every run of run_length
// characters of each poem's text without its line breaks (sharing a longer run means sharing one of
// these).
struct LeakageFilter {
  std::size_t run_length = 8;
  std::set<std::u32string> lines;
  std::unordered_set<std::u32string> runs;
};
LeakageFilter make_leakage_filter(const std::vector<Poem>& held_out, std::size_t run_length = 8);

// leaks — whether the entry's text has a line equal to a held-out line, or (without its line breaks)
// a run of run_length characters that a held-out poem has.
bool leaks(const LeakageFilter& filter, const std::u32string& entry_text);

// remove_leakage — the entries that do not leak, in order, and how many did.
struct LeakageRemoval {
  std::vector<FortuneEntry> kept;
  std::size_t removed = 0;
};
LeakageRemoval remove_leakage(const std::vector<FortuneEntry>& entries, const LeakageFilter& filter);

// held_out_lines_found — the self-check, by another road than leaks(): how many of the held-out poems'
// lines of at least min_length characters occur verbatim (a substring search) in some entry's text
// without its line breaks. 0 after remove_leakage; before it, the leakage measured.
std::size_t held_out_lines_found(const std::vector<FortuneEntry>& entries, const std::vector<Poem>& held_out,
                                 std::size_t min_length = 8);

// The corpus of chapter 18: chinese and song100, cleaned, their leakage removed.
struct PretrainCorpus {
  std::vector<FortuneEntry> entries;   // kept, chinese's first, then song100's
  std::size_t read = 0;                // entries read (after cleaning) before leakage removal
  std::size_t removed = 0;             // entries removed for leakage
  std::size_t lines_found_before = 0;  // held_out_lines_found before removal
};
PretrainCorpus build_pretrain_corpus(const std::vector<FortuneEntry>& entries,
                                     const std::vector<Poem>& held_out);

// --- LoRA on chapter 16's TinyGPT ---------------------------------------------------------------------------

// The adapters of a TinyGPT: for every block, rank-r pairs on the attention's in-projection (3E, E) and
// out-projection (E, E), named as chapter 18's PyTorch module names them:
//   blocks.N.self_attn.in_proj_lora_A (r, E),  blocks.N.self_attn.in_proj_lora_B (3E, r)
//   blocks.N.self_attn.out_proj.lora_A (r, E), blocks.N.self_attn.out_proj.lora_B (E, r)
// The effective weights are W + (α/r) B A (merge_lora); the rest of the model is the base's, frozen.
struct LoraAdapters {
  double alpha = 1.0;
  std::vector<Matrix> in_A, in_B, out_A, out_B;  // [block]
  std::size_t rank() const { return in_A.empty() ? 0 : in_A[0].shape(0); }
};

// new_adapters — LoRA's start (Hu et al. 2021, section 4.1): every A uniform in ±1/√E (PyTorch's
// default for a Linear(E, r) weight), drawn from rng block by block, in then out; every B zero, so the
// adapted model starts as the base.
LoraAdapters new_adapters(Rng& rng, const TinyGpt& base, std::size_t rank, double alpha);

// The adapters as named tensors, in the order above, block by block (for AdamW and for counting).
std::vector<NamedTensor> named_tensors(LoraAdapters& adapters);

// merge_adapters — the base with each block's in_proj_weight and out_proj.weight replaced by
// merge_lora(W, A, B, α): one plain TinyGpt, the model LoRA trains and the one stored after merging.
TinyGpt merge_adapters(const TinyGpt& base, const LoraAdapters& adapters);

// adapter_gradients — dL/dA and dL/dB of every adapter from the gradients of the merged model
// (chapter 16's backward gives dL/dW_eff for the two projections; lora_backward does the rest), in
// the adapters' layout.
LoraAdapters adapter_gradients(const TinyGpt& merged_grads, const LoraAdapters& adapters);

// lora_loss_and_gradients — one LoRA forward and backward: merge_adapters, chapter 16's loss and
// gradients of the merged model on (ids, targets), adapter_gradients. What the training step, the
// --load run and the PyTorch test all compute.
//   ids, targets: (B·T) token ids, seq_len T
struct LoraLossAndGradients {
  TinyGptLossAndGradients merged;  // the merged model's forward, loss and gradients
  LoraAdapters grads;              // dL/dA and dL/dB of every adapter
};
LoraLossAndGradients lora_loss_and_gradients(const TinyGpt& base, const LoraAdapters& adapters,
                                             const std::vector<std::size_t>& ids,
                                             const std::vector<std::size_t>& targets, std::size_t seq_len);

// The LoRA training loop's optimizer: AdamW on the adapters only, the base frozen.
//   LoraTrainer trainer(options);  trainer.step(base, adapters, batch, seq_len);
// options as chapter 16's Trainer reads them (lr, warm-up, cosine, clip; weight_decay on every adapter;
// tie is ignored: the base is not trained).
class LoraTrainer {
 public:
  explicit LoraTrainer(const TrainingOptions& options);
  // One step: merge_adapters, chapter 16's loss and gradients on the batch, adapter_gradients,
  // clipping, adamw_step on every A and B. Returns the loss before the step.
  double step(const TinyGpt& base, LoraAdapters& adapters, const Batch& batch, std::size_t seq_len);

 private:
  ScheduledAdamW optimizer_;  // every adapter decays with options.weight_decay
};

// A PyTorch TinyGPT with adapters, as --load DIR reads it: chapter 16's files (load_gpt_prompt: the
// state_dict and idx.npy), targets.npy (T,), and the four adapters of every block under their keys
// above, their rank r read from the files.
struct LoraFiles {
  TinyGpt model;                          // the frozen base
  std::vector<std::size_t> ids, targets;  // (T,) each
  LoraAdapters adapters;                  // every block's; adapters.alpha as load_lora_files was given
};

// load_lora_files — reads DIR; the adapters' α is alpha (0: r). Each problem is a usage_error naming the
// file: an adapter for a block the model does not have, a missing adapter (any of a block's four), a
// rank of 0 (an empty array) or above E, ranks that differ between adapters (r is
// blocks.0.self_attn.in_proj_lora_A's rows), an adapter of the wrong shape, targets.npy of another
// length than idx.npy, and chapter 16's problems with the model and idx.npy.
LoraFiles load_lora_files(const std::string& dir, std::size_t n_heads, double alpha);

}  // namespace course
