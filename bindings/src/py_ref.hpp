// Owning references to Python objects that native code may drop on any
// thread: the last reference is released with the GIL taken if needed, or
// leaked on purpose once the interpreter is finalizing.
#pragma once

#include <Python.h>

#include <exception>
#include <string>
#include <utility>

namespace dftracer::py {

void release_reference(PyObject* object) noexcept;

class py_ref {
public:
    py_ref() = default;
    static py_ref steal(PyObject* object) noexcept { return py_ref(object); }
    static py_ref borrow(PyObject* object) noexcept {
        Py_XINCREF(object);
        return py_ref(object);
    }
    py_ref(const py_ref& other) noexcept : object_(other.object_) { Py_XINCREF(object_); }  // GIL held
    py_ref(py_ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
    py_ref& operator=(py_ref other) noexcept {
        std::swap(object_, other.object_);
        return *this;
    }
    ~py_ref() { reset(); }

    void reset() noexcept { release_reference(std::exchange(object_, nullptr)); }
    PyObject* get() const noexcept { return object_; }
    PyObject* release() noexcept { return std::exchange(object_, nullptr); }
    explicit operator bool() const noexcept { return object_ != nullptr; }

private:
    explicit py_ref(PyObject* object) noexcept : object_(object) {}
    PyObject* object_ = nullptr;
};

/// A Python exception raised by a task, carried through the executor's C++
/// error path. what() is "TypeName: message", rendered while the GIL was held.
class python_task_error : public std::exception {
public:
    python_task_error(py_ref exception, std::string message)
        : exception_(std::move(exception)), message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }
    PyObject* exception() const noexcept { return exception_.get(); }

private:
    py_ref exception_;
    std::string message_;
};

/// Takes the pending Python exception (GIL held) with its traceback attached.
py_ref fetch_exception() noexcept;
/// Most bytes of a failure's text kept with the task record (and so in
/// progress history and traces); the exception object keeps all of it.
inline constexpr std::size_t max_error_text = 4096;

/// "TypeName: message" for an exception object (GIL held), at most
/// max_error_text bytes: a longer text is cut on a UTF-8 boundary and ends in
/// a "[... cut ...]" marker saying how long it was. Never raises: a __str__
/// that raises gives "TypeName: <str() raised OtherType>".
std::string describe(PyObject* exception);

/// `text` cut to at most `limit` bytes (marker included), as describe() does;
/// `total` is the length of the whole text when `text` is already a prefix.
std::string cap_text(std::string text, std::size_t limit, std::size_t total = 0);
/// Sets `exception` as the pending Python error (GIL held).
void restore_exception(PyObject* exception) noexcept;

}  // namespace dftracer::py
