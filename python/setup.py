"""
setup.py -- builds the wasmudf extension module against libwasmudf.

libwasmudf is built from the checkout this directory sits in (python/.. ,
with CMake: a Release build of the static library, position-independent)
and linked into the extension, so the wheel needs no libwasmudf on the
target machine; it still needs wasm2c (Debian package wabt) and a C
compiler there to compile modules on first load, as the library does.

Set WASMUDF_PREFIX to an installed prefix (cmake --install) to link its
libwasmudf.a instead of building one, or WASMUDF_LIBRARY to a libwasmudf.a
of a build tree of this checkout (the test command links the sanitizer
build's this way).
"""
import os
import pathlib
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
CHECKOUT = HERE.parent


class BuildWithLibrary(build_ext):
    """Builds (or finds) libwasmudf.a before compiling the extension."""

    def run(self):
        prefix = os.environ.get("WASMUDF_PREFIX")
        if os.environ.get("WASMUDF_LIBRARY"):
            include = CHECKOUT / "include"
            library = pathlib.Path(os.environ["WASMUDF_LIBRARY"]).resolve()
        elif prefix:
            include = pathlib.Path(prefix) / "include"
            library = next((pathlib.Path(prefix) / d / "libwasmudf.a"
                            for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
                            if (pathlib.Path(prefix) / d / "libwasmudf.a").exists()), None)
            if library is None:
                sys.exit(f"wasmudf: no libwasmudf.a under WASMUDF_PREFIX={prefix}")
        else:
            if not (CHECKOUT / "CMakeLists.txt").exists():
                sys.exit("wasmudf: build from a checkout of the wasmudf repository "
                         "(python/ beside its CMakeLists.txt), or set WASMUDF_PREFIX")
            build = pathlib.Path(self.build_temp).resolve() / "libwasmudf"
            subprocess.run(["cmake", "-S", str(CHECKOUT), "-B", str(build),
                            "-DCMAKE_BUILD_TYPE=Release", "-DWUDF_BUILD_TESTS=OFF"],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["cmake", "--build", str(build), "--target", "wasmudf_static",
                            "-j", str(os.cpu_count() or 2)], check=True,
                           stdout=subprocess.DEVNULL)
            include = CHECKOUT / "include"
            library = build / "libwasmudf.a"
        for extension in self.extensions:
            extension.include_dirs.append(str(include))
            extension.extra_objects.append(str(library))
        super().run()


setup(
    ext_modules=[Extension(
        "wasmudf._wasmudf",
        sources=["src/wasmudf_module.c", "src/arrow_capsules.c"],
        extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                            "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        extra_link_args=["-Wl,--exclude-libs,ALL", "-pthread"],
        libraries=["dl", "m", "lz4", "zstd"],
    )],
    cmdclass={"build_ext": BuildWithLibrary},
)
