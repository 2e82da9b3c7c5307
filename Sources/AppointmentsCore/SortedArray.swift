/// An array kept sorted and free of duplicates, for the indexes that lists page through.
///
/// Inserting and removing move elements (O(n)) but the lists are per doctor or per patient and
/// short next to the cost of a tree; lookups are binary searches.
struct SortedArray<Element: Comparable & Sendable>: Sendable, Equatable {
  private(set) var elements: [Element] = []
  /// The last element, kept beside the array: most inserts land after it, and reading it from
  /// the far end of a long list was a cache miss on every booking (two lists per booking).
  private var greatest: Element?

  var isEmpty: Bool {
    self.greatest == nil
  }

  /// Inserts `element` unless it is present.
  mutating func insert(_ element: Element) {
    // Lists grow mostly at their end (later dates, higher ids): no search then.
    guard let greatest = self.greatest, element <= greatest else {
      self.elements.append(element)
      self.greatest = element
      return
    }
    let index = self.firstIndex(notBelow: element)
    if self.elements[index] != element {
      self.elements.insert(element, at: index)
    }
  }

  /// Removes `element` if present.
  mutating func remove(_ element: Element) {
    let index = self.firstIndex(notBelow: element)
    if index < self.elements.endIndex, self.elements[index] == element {
      self.elements.remove(at: index)
      if index == self.elements.endIndex {
        self.greatest = self.elements.last
      }
    }
  }

  /// The index of the first element ≥ `bound` (the end index when there is none).
  func firstIndex(notBelow bound: Element) -> Int {
    var low = 0
    var high = self.elements.count
    while low < high {
      let middle = (low + high) / 2
      if self.elements[middle] < bound {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return low
  }

  /// The index of the first element > `bound` (the end index when there is none).
  func firstIndex(above bound: Element) -> Int {
    var low = 0
    var high = self.elements.count
    while low < high {
      let middle = (low + high) / 2
      if self.elements[middle] <= bound {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return low
  }
}

extension SortedArray {
  /// The elements from index `start` on that `excluded` does not hold, in order.
  ///
  /// `excluded` must be a subset of this array. Then a run of excluded elements shows up as a
  /// run of equal elements at aligned positions in both arrays, and is skipped with one binary
  /// search instead of one lookup per element: on a busy day most doctors are fully booked.
  func elements(from start: Int, excluding excluded: SortedArray<Element>) -> Remainder {
    Remainder(base: self.elements, excluded: excluded.elements, baseIndex: start)
  }

  /// The iterator of ``elements(from:excluding:)``.
  struct Remainder: Sequence, IteratorProtocol {
    let base: [Element]
    let excluded: [Element]
    var baseIndex: Int
    var excludedIndex = 0

    init(base: [Element], excluded: [Element], baseIndex: Int) {
      self.base = base
      self.excluded = excluded
      self.baseIndex = baseIndex
      // Start the excluded side at the first element that can match.
      if baseIndex < base.count {
        var low = 0
        var high = excluded.count
        while low < high {
          let middle = (low + high) / 2
          if excluded[middle] < base[baseIndex] { low = middle + 1 } else { high = middle }
        }
        self.excludedIndex = low
      }
    }

    mutating func next() -> Element? {
      while self.baseIndex < self.base.count {
        let candidate = self.base[self.baseIndex]
        guard self.excludedIndex < self.excluded.count, self.excluded[self.excludedIndex] == candidate else {
          self.baseIndex += 1
          return candidate
        }
        // base[i + d] == excluded[j + d] holds for d from 0 up to the first element not excluded
        // and fails from there on (excluded is a subset), so the run's end is a binary search.
        let limit = Swift.min(self.base.count - self.baseIndex, self.excluded.count - self.excludedIndex)
        var low = 1
        var high = limit
        while low < high {
          let middle = (low + high) / 2
          if self.base[self.baseIndex + middle] == self.excluded[self.excludedIndex + middle] {
            low = middle + 1
          } else {
            high = middle
          }
        }
        self.baseIndex += low
        self.excludedIndex += low
      }
      return nil
    }
  }
}
