"""Member operations of a PATCH as id sets, so a backend can change a 50,000-member group by
touching only the members named in the request (issue 5).

`Patch.split("members")` returns `(MemberChange | None, rest)`. The MemberChange folds the
member operations, in order, into:
- `replace_all`: None, or the complete new member id set (a `replace` of `members`, or a
  `remove` of all members followed by adds);
- `add`: ids to add (adding a present member is not an error);
- `remove`: ids to remove (removing an absent member is not an error).
Apply `replace_all` first when it is not None, then `remove`, then `add`. None is returned
when an operation cannot be expressed this way (a sub-attribute path, a filter other than
`value eq "..."` terms joined by `or`): the backend then loads the members and calls
`patch.apply(...)` like any other attribute.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scim2_filter_parser import ast

from scim.filter_ast import literal, op_name


@dataclass
class MemberChange:
    replace_all: set | None = None
    add: set = field(default_factory=set)
    remove: set = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return self.replace_all is None and not self.add and not self.remove

    def fold_add(self, ids: set) -> None:
        if self.replace_all is not None:
            self.replace_all |= ids
            return
        self.add |= ids
        self.remove -= ids

    def fold_remove(self, ids: set) -> None:
        if self.replace_all is not None:
            self.replace_all -= ids
            return
        self.remove |= ids
        self.add -= ids

    def fold_replace(self, ids: set) -> None:
        self.replace_all, self.add, self.remove = set(ids), set(), set()


def member_change(operations) -> MemberChange | None:
    change = MemberChange()
    for operation in operations:
        if operation.path.sub_attribute is not None:
            return None
        if operation.path.value_filter is not None:
            ids = _filter_ids(operation.path.value_filter)
            if ids is None or operation.op != "remove":
                return None
            change.fold_remove(ids)
        elif operation.op == "remove":
            change.fold_replace(set())
        else:
            ids = {item.get("value") for item in operation.value}
            if None in ids:
                return None
            change.fold_add(ids) if operation.op == "add" else change.fold_replace(ids)
    return change


def _filter_ids(node) -> set | None:
    """`value eq "a" or value eq "b"` → {"a", "b"}; anything else → None."""
    if isinstance(node, ast.Filter):
        return None if node.negated or node.namespace is not None else _filter_ids(node.expr)
    if isinstance(node, ast.LogExpr):
        left, right = _filter_ids(node.expr1), _filter_ids(node.expr2)
        if node.op.lower() != "or" or left is None or right is None:
            return None
        return left | right
    if isinstance(node, ast.AttrExpr) and op_name(node) == "eq" and str(node.attr_path.attr_name).lower() == "value":
        value = literal(node.comp_value)
        return {str(value)} if isinstance(value, str) else None
    return None
