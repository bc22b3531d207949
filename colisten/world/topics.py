"""Latent topics of the synthetic world: vocabularies, genre codes, text templates."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One latent topic: its genre codes and the words its items are written with."""

    key: str
    bisac: tuple[str, ...]
    podcast_category: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    people: tuple[str, ...]
    settings: tuple[str, ...]


def _t(
    key: str, bisac: str, cat: str, nouns: str, adjs: str, people: str, settings: str
) -> Topic:
    return Topic(
        key,
        tuple(bisac.split()),
        cat,
        tuple(nouns.split(", ")),
        tuple(adjs.split(", ")),
        tuple(people.split(", ")),
        tuple(settings.split(", ")),
    )


TOPICS: tuple[Topic, ...] = (
    _t(
        "true crime",
        "TRU002000 TRU001000 TRU003000",
        "True Crime",
        "murder, investigation, detective, evidence, trial, killer, alibi, confession, "
        "cold case, jury, suspect, forensics",
        "chilling, unsolved, notorious, brutal, shocking, twisted",
        "a homicide detective, a grieving mother, "
        "a defense lawyer, a serial killer, a forensic scientist",
        "a small Ohio town, the county courthouse, a motel off the interstate, "
        "the police archives",
    ),
    _t(
        "history",
        "HIS037080 HIS027000 HIS036000 HIS002000",
        "History",
        "empire, revolution, war, dynasty, treaty, archive, battle, monarchy, "
        "civilization, siege, colony, chronicle",
        "ancient, forgotten, medieval, imperial, turbulent, epic",
        "a Roman general, a court historian, a peasant rebel, a queen in exile, "
        "a young archivist",
        "Constantinople, the Roman frontier, revolutionary Paris, the Silk Road",
    ),
    _t(
        "self-help",
        "SEL027000 SEL031000 SEL016000",
        "Education",
        "habit, mindset, motivation, productivity, resilience, confidence, goal, "
        "routine, discipline, purpose, change, focus",
        "practical, transformative, simple, proven, empowering, daily",
        "a burned-out manager, a life coach, a former athlete, a busy parent",
        "your morning routine, the modern workplace, everyday life, a crowded inbox",
    ),
    _t(
        "sci-fi",
        "FIC028000 FIC028010 FIC028090",
        "Fiction",
        "starship, colony, android, wormhole, galaxy, alien, orbit, reactor, "
        "time travel, signal, frontier, clone",
        "interstellar, dystopian, cybernetic, distant, quantum, uncharted",
        "a starship captain, a rogue android, "
        "a xenobiologist, a salvage pilot, an exiled engineer",
        "a mining colony on Europa, a generation ship, the outer rim, "
        "a drowned future Earth",
    ),
    _t(
        "business",
        "BUS071000 BUS042000 BUS025000",
        "Business",
        "startup, strategy, market, leadership, negotiation, investor, growth, brand, "
        "profit, founder, pitch, merger",
        "disruptive, lean, competitive, scalable, bold, global",
        "a first-time founder, a venture capitalist, a ruthless CEO, a product manager",
        "Silicon Valley, a Wall Street trading floor, a garage startup, the boardroom",
    ),
    _t(
        "romance",
        "FIC027000 FIC027020 FIC027250",
        "Fiction",
        "love, heart, kiss, wedding, summer, letter, promise, secret, desire, "
        "second chance, rival, bakery",
        "tender, forbidden, sweet, passionate, unexpected, sparkling",
        "a small-town baker, a brooding billionaire, a wedding planner, an old flame",
        "a seaside village, a vineyard in Tuscany, "
        "a snowed-in cabin, a Manhattan rooftop",
    ),
    _t(
        "fantasy",
        "FIC009000 FIC009020 FIC009030",
        "Fiction",
        "dragon, kingdom, sword, prophecy, sorcerer, quest, throne, curse, magic, "
        "realm, rune, witch",
        "enchanted, ancient, dark, legendary, mythic, cursed",
        "an orphaned mage, a disgraced knight, a dragon rider, a thief with a secret",
        "the northern wastes, a kingdom of ash, the elven forest, a city of towers",
    ),
    _t(
        "mystery",
        "FIC022000 FIC022060 FIC022100",
        "Fiction",
        "clue, puzzle, manor, inspector, disappearance, poison, riddle, inheritance, "
        "locked room, witness, diary, village",
        "cozy, baffling, intricate, sinister, curious, clever",
        "an amateur sleuth, a retired inspector, a nosy librarian, a quiet heiress",
        "an English country manor, "
        "a seaside inn, a village fete, a train across Europe",
    ),
    _t(
        "thriller",
        "FIC031000 FIC031010 FIC031080",
        "Fiction",
        "conspiracy, agent, hostage, escape, assassin, target, countdown, "
        "betrayal, safe house, code, chase, double agent",
        "relentless, pulse-pounding, deadly, tense, covert, explosive",
        "a former spy, a rogue operative, a hunted witness, a hacker on the run",
        "Berlin, a CIA black site, the streets of Istanbul, a cargo ship at night",
    ),
    _t(
        "horror",
        "FIC015000 FIC015010",
        "Fiction",
        "ghost, haunting, nightmare, cellar, ritual, creature, whisper, graveyard, "
        "possession, fog, asylum, shadow",
        "eerie, terrifying, unholy, macabre, creeping, blood-soaked",
        "a skeptical priest, a widowed caretaker, "
        "a group of teenagers, a paranormal investigator",
        "an abandoned asylum, "
        "a cabin in the woods, a crumbling Victorian house, a fog-bound island",
    ),
    _t(
        "biography",
        "BIO000000 BIO026000 BIO007000",
        "Society & Culture",
        "life, childhood, career, legacy, memoir, fame, struggle, triumph, family, "
        "letters, ambition, comeback",
        "remarkable, candid, intimate, unvarnished, inspiring, extraordinary",
        "a rock legend, a civil rights leader, a Hollywood icon, a self-made inventor",
        "a working-class "
        "neighbourhood, the world stage, a farm in Iowa, a Paris studio",
    ),
    _t(
        "science",
        "SCI034000 SCI015000 SCI055000",
        "Science",
        "universe, particle, experiment, evolution, cell, gravity, black hole, "
        "genome, theory, discovery, atom, climate",
        "fundamental, mind-bending, cosmic, rigorous, astonishing, hidden",
        "a Nobel physicist, a field biologist, a young astronomer, a lab technician",
        "a particle "
        "accelerator, the deep ocean, a mountaintop observatory, the Galapagos",
    ),
    _t(
        "psychology",
        "PSY013000 PSY008000 PSY031000",
        "Science",
        "mind, emotion, memory, behaviour, bias, trauma, brain, anxiety, decision, "
        "personality, attention, happiness",
        "subconscious, cognitive, surprising, irrational, human, emotional",
        "a clinical psychologist, "
        "a neuroscientist, a patient in therapy, a behavioural economist",
        "the therapy room, a sleep lab, the human brain, everyday decisions",
    ),
    _t(
        "health",
        "HEA019000 HEA006000 HEA017000",
        "Health & Fitness",
        "diet, fitness, sleep, nutrition, workout, longevity, metabolism, "
        "gut health, stress, strength, recovery, wellness",
        "healthy, science-backed, lean, energizing, balanced, sustainable",
        "a sports physician, a nutritionist, a marathon runner, a sleep researcher",
        "the kitchen, the gym, a blue zone village, your own body",
    ),
    _t(
        "cooking",
        "CKB101000 CKB023000 CKB030000",
        "Arts",
        "recipe, kitchen, flavour, bread, spice, feast, chef, dinner, harvest, "
        "baking, sauce, restaurant",
        "delicious, rustic, seasonal, hearty, simple, mouthwatering",
        "a celebrated chef, a grandmother with secrets, a food critic, a home cook",
        "a trattoria in Naples, a busy "
        "restaurant kitchen, a farmers market, a street-food stall",
    ),
    _t(
        "travel",
        "TRV000000 TRV009000 TRV026000",
        "Society & Culture",
        "journey, road trip, passport, island, expedition, backpack, coastline, "
        "trail, border, train, map, adventure",
        "wild, remote, sun-drenched, far-flung, breathtaking, untamed",
        "a solo traveller, a travel writer, a nomad couple, a mountain guide",
        "Patagonia, the Trans-Siberian railway, the Scottish Highlands, a Greek island",
    ),
    _t(
        "sports",
        "SPO003000 SPO061000 SPO040000",
        "Sports",
        "championship, team, coach, season, match, rivalry, stadium, draft, "
        "victory, training, league, final",
        "legendary, underdog, gritty, record-breaking, fierce, unforgettable",
        "a star quarterback, a veteran coach, a young striker, a tennis prodigy",
        "the locker room, a packed stadium, the Olympic village, a small-town gym",
    ),
    _t(
        "philosophy",
        "PHI005000 PHI004000 PHI021000",
        "Religion & Spirituality",
        "ethics, meaning, virtue, freedom, truth, existence, stoicism, reason, "
        "justice, wisdom, death, consciousness",
        "timeless, radical, contemplative, profound, ancient, provocative",
        "a Stoic emperor, a Greek philosopher, a modern ethicist, a curious student",
        "ancient Athens, the modern world, the examined life, the university seminar",
    ),
    _t(
        "religion",
        "REL012000 REL067000 REL077000",
        "Religion & Spirituality",
        "faith, prayer, scripture, grace, pilgrimage, church, spirit, devotion, "
        "miracle, forgiveness, sermon, hope",
        "sacred, devotional, uplifting, humble, eternal, quiet",
        "a village pastor, a young monk, a pilgrim, a doubting believer",
        "a monastery, the road to Santiago, a small chapel, the desert",
    ),
    _t(
        "politics",
        "POL040000 POL033000 POL011000",
        "News",
        "election, democracy, power, campaign, policy, congress, diplomacy, "
        "scandal, reform, protest, senate, government",
        "partisan, historic, explosive, behind-the-scenes, polarized, decisive",
        "a senator, a campaign strategist, a foreign diplomat, a political reporter",
        "Washington, the White House, Westminster, a swing state",
    ),
    _t(
        "technology",
        "COM004000 COM060000 COM051000",
        "Technology",
        "algorithm, artificial intelligence, software, robot, data, internet, "
        "chip, code, network, privacy, platform, cloud",
        "digital, intelligent, automated, open-source, futuristic, connected",
        "a software engineer, a hacker, a data scientist, a robotics researcher",
        "Silicon Valley, a server farm, an AI lab, the open web",
    ),
    _t(
        "parenting",
        "FAM034000 FAM004000 FAM041000",
        "Kids & Family",
        "child, toddler, bedtime, school, teenager, family, sibling, parenting, "
        "tantrum, milestone, play, adolescence",
        "gentle, calm, joyful, practical, patient, modern",
        "a first-time mother, a stay-at-home dad, a child psychologist, a teacher",
        "the family home, the playground, the school run, the dinner table",
    ),
    _t(
        "comedy",
        "HUM000000 HUM003000 HUM016000",
        "Comedy",
        "joke, stand-up, sketch, satire, roast, blunder, mishap, punchline, "
        "prank, anecdote, improv, sitcom",
        "hilarious, absurd, irreverent, witty, deadpan, outrageous",
        "a stand-up comedian, an awkward intern, a sarcastic narrator, a hapless uncle",
        "a comedy club, a disastrous wedding, a family reunion, the writers room",
    ),
    _t(
        "music",
        "MUS050000 MUS035000 MUS019000",
        "Music",
        "album, band, tour, guitar, song, studio, record, melody, festival, jazz, "
        "rhythm, concert",
        "iconic, raw, soulful, rebellious, electric, groundbreaking",
        "a session musician, a punk singer, a record producer, a jazz pianist",
        "a Nashville studio, a smoky jazz club, the festival stage, a tour bus",
    ),
    _t(
        "nature",
        "NAT037000 NAT017000 NAT042000",
        "Science",
        "wildlife, forest, ocean, bird, wolf, river, glacier, ecosystem, whale, "
        "migration, mountain, wilderness",
        "wild, fragile, majestic, untouched, vast, vanishing",
        "a wildlife biologist, a park ranger, a birdwatcher, an ocean explorer",
        "the Arctic tundra, an ancient forest, a coral reef, the Serengeti",
    ),
    _t(
        "young adult",
        "YAF019000 YAF058000 YAF046000",
        "Fiction",
        "academy, friendship, rebellion, first love, secret, summer camp, "
        "prom, rival, power, chosen one, diary, trial",
        "coming-of-age, fierce, heartfelt, rebellious, magical, unforgettable",
        "a sixteen-year-old outsider, a reluctant heroine, a new girl in town, "
        "a teen prodigy",
        "a boarding school, a walled city, a summer camp, a small-town high school",
    ),
    _t(
        "children",
        "JUV001000 JUV002000 JUV039000",
        "Kids & Family",
        "adventure, friend, bear, pirate, treehouse, dragon, bedtime, puppy, "
        "school, magic, treasure, monster",
        "silly, brave, cheerful, magical, cozy, curious",
        "a brave little rabbit, a curious girl, a clumsy dragon, a grumpy grandfather",
        "an enchanted forest, a treehouse, a pirate ship, grandma's farm",
    ),
    _t(
        "economics",
        "BUS069000 BUS039000 BUS045000",
        "Business",
        "inflation, market, money, debt, trade, inequality, bank, crisis, "
        "capitalism, interest rate, recession, wealth",
        "global, hidden, structural, contrarian, sweeping, data-driven",
        "a central banker, a hedge fund manager, an economist, a factory worker",
        "the Federal "
        "Reserve, a Chinese factory town, the trading floor, the 2008 crash",
    ),
    _t(
        "war",
        "HIS027100 HIS027140 FIC032000",
        "History",
        "soldier, front line, platoon, invasion, trench, resistance, bomber, "
        "mission, surrender, battalion, spy, liberation",
        "harrowing, heroic, brutal, desperate, decorated, untold",
        "a young infantryman, a resistance fighter, a field nurse, a fighter pilot",
        "the Western "
        "Front, occupied France, the Pacific theatre, the beaches of Normandy",
    ),
    _t(
        "spirituality",
        "OCC010000 OCC019000 OCC011000",
        "Religion & Spirituality",
        "meditation, mindfulness, energy, soul, intuition, healing, breath, "
        "awakening, tarot, manifestation, presence, chakra",
        "mindful, calm, mystical, spiritual, healing, radiant",
        "a meditation teacher, a Buddhist nun, a healer, a seeker",
        "a silent retreat, the present moment, a mountain ashram, your inner world",
    ),
    _t(
        "art",
        "ART015000 ART016000 PHO000000",
        "Arts",
        "painting, museum, artist, canvas, sculpture, gallery, masterpiece, "
        "photograph, studio, forgery, colour, exhibition",
        "luminous, avant-garde, visionary, controversial, vivid, lost",
        "a struggling painter, a museum curator, an art forger, a photographer",
        "the Louvre, a Montmartre studio, a New York gallery, Renaissance Florence",
    ),
    _t(
        "film",
        "PER004000 PER004030 PER011000",
        "TV & Film",
        "movie, director, screenplay, actor, studio, premiere, blockbuster, "
        "Oscar, casting, camera, sequel, scene",
        "cinematic, behind-the-scenes, legendary, cult, glamorous, chaotic",
        "a Hollywood director, a stunt performer, a screenwriter, a child star",
        "a Hollywood backlot, the Cannes festival, a film set, a cinema in Rome",
    ),
    _t(
        "gaming",
        "GAM013000 GAM001000 GAM016000",
        "Leisure",
        "video game, console, esports, level, player, boss, quest, tournament, "
        "controller, pixel, guild, speedrun",
        "legendary, competitive, retro, immersive, addictive, indie",
        "a pro gamer, an indie developer, a streamer, a game designer",
        "an esports arena, a tiny indie studio, an arcade, a virtual world",
    ),
    _t(
        "law",
        "LAW041000 LAW026000 LAW018000",
        "Government",
        "court, lawyer, verdict, case, appeal, contract, supreme court, "
        "constitution, prosecutor, testimony, rights, judge",
        "landmark, controversial, legal, precedent-setting, high-stakes, principled",
        "a public defender, a supreme court justice, a young paralegal, a prosecutor",
        "the supreme court, a crowded courtroom, a law firm, death row",
    ),
)
"""The latent topic vocabulary; a world uses the first n_topics of these."""

FILLER_SENTENCES: tuple[str, ...] = (
    "It is a story that stays with you long after the last page.",
    "Critics have called it one of the most talked-about releases of the year.",
    "Perfect for long drives, quiet evenings and everything in between.",
    "This edition includes an exclusive afterword.",
    "Narrated with warmth and wit, it rewards every minute of listening.",
    "Fans have been waiting years for this one.",
    "Short chapters make it easy to listen in small moments.",
    "An instant bestseller in several countries.",
    "New episodes every week, with guests from all walks of life.",
    "Join the conversation and tell us what you think.",
    "Recorded in front of a live audience.",
    "Some listeners will love it, some will not, nobody will forget it.",
)
"""Generic sentences with no topic signal: the text signal is real but imperfect."""

_AB_TITLES = (
    "The {Adj} {Noun}",
    "{Noun} and {Noun2}",
    "A {Noun} in {Setting}",
    "The Last {Noun}",
    "{Adj} {Noun}s",
    "The {Noun} of {Setting}",
    "When the {Noun} Falls",
    "Notes on {Noun}",
    "The {Noun} Files",
)
_POD_TITLES = (
    "The {Noun} Podcast",
    "{Adj} {Noun} Weekly",
    "{Noun} Talk",
    "Inside {Noun}",
    "The {Noun} Hour",
    "{Noun} Uncovered",
    "Daily {Noun}",
)
_AB_SENTENCES = (
    "In {setting}, {person} is drawn into a {adj} story of {noun} and {noun2}.",
    "This {adj} book follows {person} through {setting}.",
    "{Person} must confront the {noun} at the heart of it all.",
    "A {adj} account of {noun}, {noun2} and the people caught between them.",
    "What begins with a single {noun} becomes something far more {adj}.",
    "Told by {person}, it is a book about {noun}, {noun2} and what comes after.",
    "Readers who love {topic} will find {adj} {noun}s on every page.",
)
_POD_SENTENCES = (
    "Each week {person} explores {adj} stories of {noun} and {noun2}.",
    "A podcast about {topic}: {noun}, {noun2} and everything in between.",
    "Conversations with {person} about {noun} in {setting}.",
    "We dig into the {adj} side of {noun}.",
    "Your weekly guide to {topic}, from {noun} to {noun2}.",
    "Hosted by {person}, with stories from {setting}.",
    "Every episode unpacks one {adj} {noun}.",
    "Listeners call it the best show about {noun} and {noun2} around.",
)
_TRANSLATED = {
    "es": ("Una historia de {topic}.", "Edición en español.", "Audiolibro"),
    "de": ("Eine Geschichte über {topic}.", "Deutsche Ausgabe.", "Hörbuch"),
    "fr": ("Une histoire de {topic}.", "Édition française.", "Livre audio"),
    "sv": ("En berättelse om {topic}.", "Svensk utgåva.", "Ljudbok"),
}
_FIRST = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "James",
    "Karin",
    "Lucas",
    "Maya",
    "Nils",
    "Olivia",
    "Pablo",
    "Rosa",
    "Samuel",
    "Tara",
    "Viktor",
    "Wendy",
    "Yusuf",
    "Zoe",
    "Marco",
)
_LAST = (
    "Lindqvist",
    "Moreau",
    "Garcia",
    "Okafor",
    "Brennan",
    "Schmidt",
    "Tanaka",
    "Rossi",
    "Novak",
    "Hughes",
    "Larsen",
    "Alvarez",
    "Kowalski",
    "Chen",
    "Dubois",
    "Fischer",
    "Murphy",
    "Silva",
    "Berg",
    "Walsh",
)
_HOUSES = (
    "Penguin",
    "Harbor",
    "Northlight",
    "Bluebird",
    "Meridian",
    "Atlas",
    "Lantern",
    "Foxglove",
    "Ironwood",
    "Saltmarsh",
    "Kestrel",
    "Oakline",
)
_HOUSE_KIND = ("Books", "Audio", "Press", "Publishing", "House")
_NETWORK_KIND = ("Media", "Studios", "Podcasts", "Network", "Radio")


def _fill(template: str, topic: Topic, rnd: random.Random) -> str:
    noun, noun2 = rnd.sample(topic.nouns, 2)
    person = rnd.choice(topic.people)
    values = {
        "noun": noun,
        "noun2": noun2,
        "adj": rnd.choice(topic.adjectives),
        "person": person,
        "setting": rnd.choice(topic.settings),
        "topic": topic.key,
    }
    values.update({k.capitalize(): v[:1].upper() + v[1:] for k, v in values.items()})
    values["Noun"], values["Noun2"] = noun.title(), noun2.title()
    values["Setting"] = values["setting"]
    return template.format(**values)


def item_text(
    rnd: random.Random,
    audiobook: bool,
    primary: Topic,
    secondary: Topic | None,
    language: str,
) -> tuple[str, str]:
    """Write a (title, description) for an item about primary (and maybe secondary)."""
    titles, sentences = (
        (_AB_TITLES, _AB_SENTENCES) if audiobook else (_POD_TITLES, _POD_SENTENCES)
    )
    title = _fill(rnd.choice(titles), primary, rnd)
    n_sent = rnd.randint(3, 5)
    parts: list[str] = []
    for template in rnd.sample(sentences, n_sent):
        r = rnd.random()
        if r < 0.2:
            parts.append(rnd.choice(FILLER_SENTENCES))
            continue
        topic = secondary if (secondary is not None and r > 0.7) else primary
        parts.append(_fill(template, topic, rnd))
    if language in _TRANSLATED:
        story, edition, kind = _TRANSLATED[language]
        title = f"{title} ({kind})" if audiobook else title
        parts.insert(0, story.format(topic=primary.key))
        parts.append(edition)
    return title, " ".join(parts)


def person_name(rnd: random.Random) -> str:
    """A made-up author or host name."""
    return f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)}"


def publisher_name(rnd: random.Random, podcast: bool = False) -> str:
    """A made-up publisher (or, for a podcast, network) name."""
    kind = _NETWORK_KIND if podcast else _HOUSE_KIND
    return f"{rnd.choice(_HOUSES)} {rnd.choice(kind)}"
