package synth

// Name tables for recipients and generated company domains. A mix of
// origins, because real customer lists are international.

var firstNames = []string{
	"james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda",
	"william", "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica",
	"thomas", "sarah", "charles", "karen", "chris", "nancy", "daniel", "lisa",
	"matthew", "betty", "anthony", "margaret", "mark", "sandra", "donald", "ashley",
	"steven", "kim", "paul", "emily", "andrew", "donna", "josh", "michelle",
	"kevin", "dorothy", "brian", "carol", "george", "amanda", "tim", "melissa",
	"ronald", "deborah", "jason", "stephanie", "ryan", "rebecca", "jacob", "laura",
	"gary", "sharon", "nick", "cynthia", "eric", "kathleen", "jonathan", "amy",
	"stephen", "shirley", "larry", "angela", "justin", "helen", "scott", "anna",
	"brandon", "brenda", "ben", "pamela", "sam", "nicole", "frank", "emma",
	"greg", "samantha", "alex", "katherine", "patrick", "christine", "jack", "debra",
	"dennis", "rachel", "jerry", "catherine", "tyler", "carolyn", "aaron", "janet",
	"jose", "ruth", "adam", "maria", "henry", "heather", "nathan", "diane",
	"olivia", "noah", "liam", "sophia", "lucas", "mia", "ethan", "chloe",
	"lukas", "lena", "jonas", "leonie", "felix", "hannah", "max", "julia",
	"pierre", "camille", "louis", "zoe", "hugo", "manon", "luca", "giulia",
	"marco", "francesca", "javier", "lucia", "pablo", "carmen", "diego", "sofia",
	"pedro", "ana", "joao", "beatriz", "mateus", "lars", "ingrid", "erik",
	"astrid", "sven", "freya", "piotr", "katarzyna", "tomasz", "agnieszka", "jan",
	"priya", "arjun", "ananya", "rahul", "deepa", "vikram", "wei", "li",
	"hiroshi", "yuki", "kenji", "sakura", "min", "jiwoo", "omar", "fatima",
	"ahmed", "layla", "yusuf", "amara", "kwame", "chidi", "zanele", "thabo",
	"sean", "siobhan", "niamh", "ciaran", "aoife", "connor", "isla", "finn",
}

var lastNames = []string{
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
	"rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas",
	"taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white",
	"harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young",
	"allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
	"green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell",
	"carter", "roberts", "gomez", "phillips", "evans", "turner", "diaz", "parker",
	"cruz", "edwards", "collins", "reyes", "stewart", "morris", "morales", "murphy",
	"cook", "rogers", "gutierrez", "ortiz", "morgan", "cooper", "peterson", "bailey",
	"reed", "kelly", "howard", "ramos", "kim", "cox", "ward", "richardson",
	"watson", "brooks", "chavez", "wood", "james", "bennett", "gray", "mendoza",
	"ruiz", "hughes", "price", "alvarez", "castillo", "sanders", "patel", "myers",
	"long", "ross", "foster", "jimenez", "powell", "jenkins", "perry", "russell",
	"sullivan", "bell", "coleman", "butler", "henderson", "barnes", "gonzales", "fisher",
	"muller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
	"schulz", "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz",
	"dubois", "lefebvre", "moreau", "laurent", "simon", "michel", "leroy", "roux",
	"rossi", "russo", "ferrari", "esposito", "bianchi", "romano", "colombo", "ricci",
	"fernandez", "santos", "silva", "oliveira", "pereira", "costa", "almeida", "ferreira",
	"jansen", "devries", "bakker", "visser", "smit", "andersson", "johansson", "karlsson",
	"nilsson", "larsen", "hansen", "nielsen", "kowalski", "nowak", "wisniewski", "wojcik",
	"sharma", "singh", "kumar", "gupta", "reddy", "iyer", "chen", "wang",
	"zhang", "liu", "tanaka", "suzuki", "sato", "park", "choi", "yilmaz",
	"kaya", "hassan", "ali", "okafor", "mensah", "dlamini", "obrien", "byrne",
	"kennedy", "doyle", "lynch", "mccarthy", "walsh", "oconnor", "ryan", "quinn",
}

// nicknameWords make the free-form local parts many freemail users pick.
var nicknameWords = []string{
	"sunny", "blue", "happy", "silver", "wild", "little", "crazy", "golden",
	"shadow", "starlight", "ocean", "river", "mountain", "forest", "storm", "tiger",
	"wolf", "fox", "eagle", "dragon", "panda", "kitty", "bear", "lion",
	"rocket", "pixel", "ninja", "gamer", "music", "coffee", "pizza", "soccer",
	"surf", "skater", "runner", "rider", "angel", "dreamer", "travel", "photo",
}

// Syllables and words for company names; the results sound like companies
// without being any well-known one.
var companyHeads = []string{
	"nova", "vertex", "blue", "apex", "bright", "cedar", "clear", "crest",
	"delta", "ever", "first", "flux", "green", "harbor", "iron", "keystone",
	"lumen", "maple", "meridian", "north", "oak", "orbit", "peak", "pine",
	"prime", "quantum", "red", "river", "sage", "silver", "sky", "stone",
	"summit", "terra", "true", "union", "vista", "west", "zen", "alder",
	"arc", "aster", "beacon", "birch", "cobalt", "copper", "coral", "ember",
	"falcon", "granite", "hawk", "helio", "indigo", "juniper", "kite", "lark",
	"linden", "lotus", "mosaic", "onyx", "opal", "pioneer", "quartz", "raven",
	"sierra", "solis", "spruce", "tandem", "tidal", "trident", "vanta", "willow",
	"hollow", "lake", "mill", "brook", "fern", "glen", "heath", "moor",
}

var companyTails = []string{
	"tech", "labs", "works", "soft", "ware", "logic", "data", "systems",
	"group", "partners", "capital", "health", "legal", "logistics", "foods", "media",
	"studio", "digital", "solutions", "consulting", "energy", "bio", "med", "pharma",
	"retail", "goods", "supply", "freight", "motors", "build", "design", "craft",
	"analytics", "cloud", "net", "link", "point", "path", "field", "gate",
	"stack", "ly", "ify", "io", "hub", "base", "line", "wise",
	"finance", "insure", "realty", "homes", "travel", "learning", "academy", "care",
}

var companyTLDs = []string{
	".com", ".com", ".com", ".com", ".com", ".com", ".io", ".io",
	".co", ".co.uk", ".co.uk", ".de", ".de", ".net", ".org", ".fr",
	".nl", ".com.au", ".ca", ".es", ".it", ".se", ".ch", ".ie",
}

// roleLocals are the shared mailboxes B2B senders write to.
var roleLocals = []string{
	"info", "billing", "accounts", "finance", "ap", "accounting", "office", "admin",
	"support", "sales", "hr", "invoices", "payables", "team", "hello", "operations",
}
