"""Turn the backend's model objects into real ``telethon.tl.types`` objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from telethon.tl import types

from monitor.simulator.keys import DC_ID
from monitor.simulator.model import (
    ChangeEvent,
    SimAccount,
    SimChannel,
    SimDocument,
    SimMessage,
    SimPhoto,
)

__all__ = [
    "DC_ID",
    "change_update",
    "channel_tl",
    "config_tl",
    "message_tl",
    "photo_tl",
    "user_tl",
]


# ``types.Message`` is Telethon's client-side message (telethon.tl.patched), whose constructor
# does client bookkeeping that costs more than the rest of rendering. The server only needs the
# generated TL class underneath it: same constructor id, same bytes on the wire.
_WireMessage: Any = next(c for c in types.Message.__mro__ if c.__module__ == "telethon.tl.types")
assert _WireMessage.CONSTRUCTOR_ID == types.Message.CONSTRUCTOR_ID


def user_tl(account: SimAccount, *, is_self: bool = True) -> types.User:
    return types.User(
        id=account.user_id,
        is_self=is_self,
        access_hash=account.access_hash,
        first_name=account.first_name,
        phone=account.phone,
        status=types.UserStatusRecently(),
    )


def channel_tl(channel: SimChannel, account: str, *, banned: bool = False) -> types.TypeChat:
    if banned:
        return types.ChannelForbidden(
            id=channel.id,
            access_hash=channel.access_hash_for(account),
            title=channel.title,
            broadcast=True,
        )
    photo: types.TypeChatPhoto = types.ChatPhotoEmpty()
    if channel.photo is not None:
        photo = types.ChatPhoto(photo_id=channel.photo.id, dc_id=DC_ID)
    return types.Channel(
        id=channel.id,
        title=channel.title,
        photo=photo,
        date=channel.date,
        broadcast=True,
        left=account not in channel.joined,
        access_hash=channel.access_hash_for(account),
        username=channel.username,
        participants_count=channel.participants or None,
    )


def _media_tl(message: SimMessage) -> types.TypeMessageMedia | None:
    if message.photo is not None:
        return types.MessageMediaPhoto(photo=photo_tl(message.photo))
    if message.document is not None:
        return types.MessageMediaDocument(document=document_tl(message.document))
    return None


def document_tl(document: SimDocument) -> types.Document:
    attributes: list[types.TypeDocumentAttribute] = []
    if document.file_name:
        attributes.append(types.DocumentAttributeFilename(document.file_name))
    return types.Document(
        id=document.id,
        access_hash=document.access_hash,
        file_reference=document.file_reference,
        date=document.date,
        mime_type=document.mime_type,
        size=len(document.data),
        dc_id=DC_ID,
        attributes=attributes,
    )


def photo_tl(photo: SimPhoto) -> types.Photo:
    return types.Photo(
        id=photo.id,
        access_hash=photo.access_hash,
        file_reference=photo.file_reference,
        date=photo.date,
        sizes=[
            types.PhotoSize(type=t, w=photo.dimensions[t][0], h=photo.dimensions[t][1], size=len(b))
            for t, b in photo.sizes.items()
        ],
        dc_id=DC_ID,
    )


def message_tl(channel: SimChannel, message: SimMessage) -> types.TypeMessage:
    peer = types.PeerChannel(channel.id)
    if message.deleted:
        return types.MessageEmpty(id=message.id, peer_id=peer)
    fwd = None
    if message.fwd_from is not None:
        f = message.fwd_from
        fwd = types.MessageFwdHeader(
            date=f.date,
            from_id=types.PeerChannel(f.channel_id) if f.channel_id else None,
            from_name=f.from_name if not f.channel_id else None,
            channel_post=f.message_id,
        )
    reactions = None
    if message.reactions:
        reactions = types.MessageReactions(
            results=[
                types.ReactionCount(reaction=types.ReactionEmoji(emoticon=e), count=n)
                for e, n in sorted(message.reactions.items(), key=lambda kv: -kv[1])
            ]
        )
    return _WireMessage(
        id=message.id,
        peer_id=peer,
        date=message.date,
        message=message.text,
        post=True,
        fwd_from=fwd,
        reply_to=types.MessageReplyHeader(reply_to_msg_id=message.reply_to)
        if message.reply_to
        else None,
        media=_media_tl(message),
        entities=list(message.entities) or None,
        views=message.views,
        forwards=message.forwards,
        replies=types.MessageReplies(replies=message.replies, replies_pts=channel.pts)
        if message.replies
        else None,
        edit_date=message.edit_date,
        grouped_id=message.grouped_id,
        reactions=reactions,
        pinned=message.pinned,
    )


def change_update(channel: SimChannel, event: ChangeEvent) -> types.TypeUpdate:
    """The update telling a client about ``event``, with its pts; messages as they are now (an
    edited post shows its latest text; a since-deleted one is ``MessageEmpty``)."""
    if event.kind == "delete":
        return types.UpdateDeleteChannelMessages(
            channel.id, list(event.message_ids), event.pts, event.pts_count
        )
    if event.kind in ("pin", "unpin"):
        return types.UpdatePinnedChannelMessages(
            channel.id,
            list(event.message_ids),
            event.pts,
            event.pts_count,
            pinned=event.kind == "pin",
        )
    message = message_tl(channel, channel.messages[event.message_ids[0]])
    cls = types.UpdateNewChannelMessage if event.kind == "new" else types.UpdateEditChannelMessage
    return cls(message, event.pts, event.pts_count)


def config_tl(host: str, port: int, now: datetime | None = None) -> types.Config:
    """A full ``Config`` whose only data centre is the simulator itself."""
    now = now or datetime.now(UTC)
    return types.Config(
        date=now,
        expires=now + timedelta(hours=1),
        test_mode=False,
        this_dc=DC_ID,
        dc_options=[types.DcOption(id=DC_ID, ip_address=host, port=port)],
        dc_txt_domain_name="simulated.invalid",
        chat_size_max=200,
        megagroup_size_max=200000,
        forwarded_count_max=100,
        online_update_period_ms=210000,
        offline_blur_timeout_ms=5000,
        offline_idle_timeout_ms=30000,
        online_cloud_timeout_ms=300000,
        notify_cloud_delay_ms=30000,
        notify_default_delay_ms=1500,
        push_chat_period_ms=60000,
        push_chat_limit=2,
        edit_time_limit=172800,
        revoke_time_limit=2147483647,
        revoke_pm_time_limit=2147483647,
        rating_e_decay=2419200,
        stickers_recent_limit=200,
        channels_read_media_period=604800,
        call_receive_timeout_ms=20000,
        call_ring_timeout_ms=90000,
        call_connect_timeout_ms=30000,
        call_packet_timeout_ms=10000,
        me_url_prefix="https://t.me/",
        caption_length_max=1024,
        message_length_max=4096,
        webfile_dc_id=DC_ID,
    )
