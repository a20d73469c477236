"""How metadata definitions look in API responses."""

from __future__ import annotations

from typing import Any

from overcast.image.models import (
    MetadefObject,
    MetadefProperty,
    MetadefTag,
    Namespace,
    ResourceType,
    ResourceTypeAssociation,
)
from overcast.image.views import timestamp

NAMESPACES = "/v2/metadefs/namespaces"


def _stamps(item: Any) -> dict[str, Any]:
    return {"created_at": timestamp(item.created_at), "updated_at": timestamp(item.updated_at)}


def _present(view: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in view.items() if value is not None}


def namespace_view(namespace: Namespace) -> dict[str, Any]:
    return _present(
        {
            "namespace": namespace.namespace,
            "display_name": namespace.display_name,
            "description": namespace.description,
            "visibility": namespace.visibility,
            "protected": namespace.protected,
            "owner": namespace.owner,
            **_stamps(namespace),
            "schema": "/v2/schemas/metadefs/namespace",
            "self": f"{NAMESPACES}/{namespace.namespace}",
        }
    )


def association_view(association: ResourceTypeAssociation, kind: ResourceType) -> dict[str, Any]:
    return _present(
        {
            "name": kind.name,
            "prefix": association.prefix,
            "properties_target": association.properties_target,
            **_stamps(association),
        }
    )


def resource_type_view(kind: ResourceType) -> dict[str, Any]:
    return {"name": kind.name, **_stamps(kind)}


def property_body(prop: MetadefProperty) -> dict[str, Any]:
    """The property's definition, as it sits in a ``properties`` map (keyed by name)."""
    return dict(prop.schema)


def property_view(prop: MetadefProperty) -> dict[str, Any]:
    return {"name": prop.name, **prop.schema}


def object_view(namespace: Namespace, item: MetadefObject) -> dict[str, Any]:
    return _present(
        {
            "name": item.name,
            "description": item.description,
            "required": item.required.get("names", []),
            "properties": item.properties,
            **_stamps(item),
            "schema": "/v2/schemas/metadefs/object",
            "self": f"{NAMESPACES}/{namespace.namespace}/objects/{item.name}",
        }
    )


def tag_view(tag: MetadefTag) -> dict[str, Any]:
    return {"name": tag.name, **_stamps(tag)}
