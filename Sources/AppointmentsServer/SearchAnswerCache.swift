import AppointmentsCore
import AppointmentsProto
import Synchronization

/// Encoded answers of `FindDoctors`, kept while the calendars they describe do not change.
///
/// An answer is kept with the ``SearchVersions/Stamp`` of its date read before the shards were
/// asked, and given again only while the date's stamp is the same: any booking, cancellation or
/// new doctor that could change it moves the stamp (in the shard, in the same step as the change),
/// so a kept answer is exactly what asking the shards would give. Only answers that do not depend
/// on the time are kept (``BookingPolicy/admitsInEveryZone(_:now:)`` when made and when given).
///
/// Bounded by bytes, each answer counted with ``entryOverhead``; when full, the oldest answers
/// go first.
final class SearchAnswerCache: Sendable {
  /// What a search asked for.
  struct Question: Hashable, Sendable {
    var specialization: Specialization
    var dayNumber: Int
    var limit: Int
    var afterDoctorID: AccountID?
  }

  typealias Answer = ProtoEncoded<V1.FindDoctorsResponse>

  private struct Kept {
    var stamp: SearchVersions.Stamp
    var answer: Answer
  }

  private struct Storage {
    var answers: [Question: Kept] = [:]
    /// Questions in the order their answers were first kept: the next to go is at `oldest`.
    var order: [Question] = []
    var oldest = 0
    var bytes = 0
  }

  /// The most bytes of answers kept, overheads included.
  let capacityBytes: Int

  /// What an answer costs besides its bytes, counted against the capacity: its question twice
  /// (map and queue), its stamp and its buffer's header, rounded up. Counted by their bytes alone,
  /// empty answers (a forged page token's, 0 bytes) were free, and a client asking ever new
  /// questions grew the cache without bound.
  static let entryOverhead = 256

  /// What keeping `answer` counts against the capacity.
  static func cost(of answer: Answer) -> Int {
    answer.bytes.count + entryOverhead
  }
  private let storage = Mutex(Storage())

  init(capacityBytes: Int) {
    self.capacityBytes = capacityBytes
  }

  /// The kept answer to `question`, if it was kept with `stamp`.
  func answer(to question: Question, stamp: SearchVersions.Stamp) -> Answer? {
    storage.withLock { storage in
      guard let kept = storage.answers[question], kept.stamp == stamp else { return nil }
      return kept.answer
    }
  }

  /// Keeps `answer`, made from the calendars as they stood at `stamp`; an answer costing more
  /// than a sixteenth of the capacity is not kept.
  func keep(_ answer: Answer, to question: Question, stamp: SearchVersions.Stamp) {
    let size = Self.cost(of: answer)
    guard size <= capacityBytes / 16 else { return }
    storage.withLock { storage in
      if let replaced = storage.answers.updateValue(Kept(stamp: stamp, answer: answer), forKey: question) {
        storage.bytes += size - Self.cost(of: replaced.answer)
      } else {
        storage.bytes += size
        storage.order.append(question)
      }
      while storage.bytes > capacityBytes, storage.oldest < storage.order.count {
        let question = storage.order[storage.oldest]
        storage.oldest += 1
        if let removed = storage.answers.removeValue(forKey: question) {
          storage.bytes -= Self.cost(of: removed.answer)
        }
      }
      // Drop the questions already gone once they are half of the queue.
      if storage.oldest > 64, storage.oldest * 2 > storage.order.count {
        storage.order.removeFirst(storage.oldest)
        storage.oldest = 0
      }
    }
  }

  /// How many answers are kept, and what they cost (for tests).
  var usage: (answers: Int, bytes: Int) {
    storage.withLock { ($0.answers.count, $0.bytes) }
  }
}
