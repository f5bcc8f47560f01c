"""The generated project as a newcomer finds it: each stage's deps in dvc.yaml cover what it
imports, imports point inward, a short README whose links (and the docs') all resolve, and
`make help` by section."""

import ast
import re
import sys

import pytest
import yaml

from conftest import bake, run

PACKAGE = "churn_model"


def local_imports(module_path, package_dir):
    """Source files of the package that a module imports, through relative imports."""
    found = set()
    for node in ast.walk(ast.parse(module_path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = module_path.parent
            for _ in range(node.level - 1):
                base = base.parent
            names = [node.module] if node.module else [alias.name for alias in node.names]
            for name in names:
                target = base.joinpath(*name.split("."))
                found |= {p for p in (target.with_suffix(".py"), target / "__init__.py") if p.is_file()}
                # `from .x import y` where y is itself a module of x
                if node.module:
                    found |= {p for alias in node.names if (p := target / f"{alias.name}.py").is_file()}
    return {p for p in found if p.name != "__init__.py"}


def test_each_stage_declares_deps_covering_every_source_file_it_imports(cookies):
    """A stage's source deps are its own module, the shared package, config and cli: together
    they cover everything it imports, so an edit to any of it makes DVC re-run the stage."""
    project = bake(cookies, init_git="no", sample_data="no").project_path
    package = project / "src" / PACKAGE
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        needed, todo = set(), [package / "pipeline" / f"{name}.py"]
        while todo:
            module = todo.pop()
            if module not in needed:
                needed.add(module)
                todo.extend(local_imports(module, package))
        declared = [project / dep for dep in stage["deps"] if dep.startswith("src/")]
        assert declared == [package / "pipeline" / f"{name}.py", package / "pipeline" / "shared",
                            package / "config.py", package / "cli.py"], name
        uncovered = {p for p in needed if not any(p == dep or dep in p.parents for dep in declared)}
        assert not uncovered, (name, uncovered)
        # A stage never imports another stage: what two stages share lives in pipeline/shared.
        assert [p for p in needed if p.parent == package / "pipeline"] == [package / "pipeline" / f"{name}.py"], name
    # __init__ files are imported by every stage but are left out of the deps: they hold no code.
    for init in package.rglob("__init__.py"):
        assert [type(node) for node in ast.parse(init.read_text()).body] == [ast.Expr], init
    # Bytecode caches inside the shared folder must not change its hash.
    assert "__pycache__/" in (project / ".dvcignore").read_text().split()


# Which parts of the package each part may import: imports point inward, towards the pipeline
# and the core; the bake-time code needs nothing but the standard library and cli.
MAY_IMPORT = {
    "cli": set(),
    "config": {"cli"},
    "bake": {"bake", "cli"},
    "pipeline": {"pipeline", "cli", "config"},
    "storage": {"storage", "cli"},
    "delivery": {"delivery", "pipeline", "storage", "bake", "cli", "config"},
}


def part_of(path, package):
    relative = path.relative_to(package)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_imports_point_inward_and_bake_time_code_uses_the_standard_library_only(cookies):
    project = bake(cookies, init_git="no", sample_data="no").project_path
    package = project / "src" / PACKAGE
    for module in package.rglob("*.py"):
        part = part_of(module, package)
        if part == "__init__":
            continue
        used = {part_of(p, package) for p in local_imports(module, package)}
        assert used <= MAY_IMPORT[part] | {part}, (module.relative_to(project), used)
    bake_time = [package / "cli.py", *(package / "bake").glob("*.py")]
    for module in bake_time:
        for node in ast.walk(ast.parse(module.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, (module.name, name)


def heading_anchors(markdown):
    """The anchors GitLab and GitHub give a page's headings, and its explicit <a id="...">."""
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("ci", ["gitlab", "github"])
def test_the_readme_is_short_and_every_link_in_it_and_the_docs_resolves(cookies, ci):
    project = bake(cookies, init_git="no", ci=ci).project_path
    readme = project / "README.md"
    assert len(readme.read_text().splitlines()) <= 150
    pages = [readme, *sorted((project / "docs").glob("*.md"))]
    linked = set()
    for page in pages:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), (page.name, target)
            linked.add(resolved)
            if anchor:
                assert anchor in heading_anchors(resolved.read_text()), (page.name, target)
    assert set(pages[1:]) <= linked  # every docs page is reachable


def test_make_help_lists_every_target_once_in_its_section(cookies):
    project = bake(cookies, init_git="no", sample_data="no").project_path
    # --no-print-directory: under `make test` this make is a sub-make, which would announce its folder.
    out = run("make --no-print-directory help", project)
    sections = re.findall(r"^(\S.*)$", out, re.M)
    assert sections == ["The daily loop", "Data and storage", "CI: called by the pipeline's jobs (they work from a "
                        "laptop too)", "Development"]
    listed = re.findall(r"^  (\S+)", out, re.M)
    phony = (project / "Makefile").read_text().split(".PHONY:")[1].split("\n\n")[0].replace("\\\n", " ").split()
    assert sorted(listed) == sorted(phony)
    assert out.index("  repro ") < out.index("  push ") < out.index("  ci-promote ") < out.index("  test ")
