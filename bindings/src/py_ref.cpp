#include "py_ref.hpp"

#include <nanobind/nanobind.h>

#include <algorithm>

#include "gil.hpp"

namespace dftracer::py {

void release_reference(PyObject* object) noexcept {
    if (object == nullptr) return;
    if (PyGILState_Check()) {
        Py_DECREF(object);
        return;
    }
    if (!interpreter_usable()) return;  // leaked on purpose at shutdown
    if (nanobind::detail::cleanup_guard guard{}) Py_DECREF(object);
}

py_ref fetch_exception() noexcept {
#if PY_VERSION_HEX >= 0x030C0000
    return py_ref::steal(PyErr_GetRaisedException());
#else
    PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != nullptr && value != nullptr) PyException_SetTraceback(value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return py_ref::steal(value);
#endif
}

std::string cap_text(std::string text, std::size_t limit, std::size_t total) {
    total = std::max(total, text.size());
    if (total <= limit) return text;
    const std::string marker = " [... cut: " + std::to_string(total) + " bytes in all]";
    std::size_t keep = std::min(text.size(), limit > marker.size() ? limit - marker.size() : 0);
    // Never split a UTF-8 sequence: back up over continuation bytes.
    while (keep > 0 && keep < text.size() && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
    text.resize(keep);
    text += marker;
    return text;
}

std::string describe(PyObject* exception) {
    if (exception == nullptr) return "unknown Python error";
    std::string out = Py_TYPE(exception)->tp_name;
    PyObject* text = PyObject_Str(exception);
    if (text == nullptr) {
        PyErr_Clear();
        return out + ": <str() raised>";
    }
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text, &size);
    PyObject* escaped = nullptr;
    if (data == nullptr) {  // not UTF-8 (a lone surrogate): keep the text, escaped
        PyErr_Clear();
        escaped = PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace");
        char* raw = nullptr;
        if (escaped != nullptr && PyBytes_AsStringAndSize(escaped, &raw, &size) == 0) data = raw;
    }
    if (data != nullptr && size > 0) {
        const std::size_t total = out.size() + 2 + static_cast<std::size_t>(size);
        out += ": ";
        // Only the kept prefix is copied: a 10 MB message costs 4 KiB here.
        out.append(data, std::min(static_cast<std::size_t>(size), max_error_text));
        out = cap_text(std::move(out), max_error_text, total);
    }
    Py_XDECREF(escaped);
    Py_DECREF(text);
    PyErr_Clear();
    return out;
}

void restore_exception(PyObject* exception) noexcept {
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(Py_NewRef(exception));
#else
    PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(exception))), Py_NewRef(exception),
                  PyException_GetTraceback(exception));
#endif
}

}  // namespace dftracer::py
