"""What the simulated shop looks like: the shapes of the public Olist data sets (Brazilian e-commerce,
2016-2018, and its marketing funnel), as weights and ranges the simulator draws from.

Shares are rounded from the published data: customers' and sellers' states, product categories, payment types
and instalments, review scores (by on-time or late delivery), lead origins, business segments and lead types.
"""

from __future__ import annotations

# state, share of customers, share of sellers, (first, last) 5-digit zip prefix, cities
STATES: tuple[tuple[str, float, float, tuple[int, int], tuple[str, ...]], ...] = (
    ("SP", 0.420, 0.597, (1000, 19999), ("sao paulo", "campinas", "guarulhos", "santo andre", "sorocaba")),
    ("RJ", 0.129, 0.046, (20000, 28999), ("rio de janeiro", "niteroi", "sao goncalo", "duque de caxias")),
    ("MG", 0.117, 0.079, (30000, 39999), ("belo horizonte", "uberlandia", "contagem", "juiz de fora")),
    ("RS", 0.055, 0.042, (90000, 99999), ("porto alegre", "caxias do sul", "pelotas")),
    ("PR", 0.051, 0.113, (80000, 87999), ("curitiba", "londrina", "maringa")),
    ("SC", 0.037, 0.061, (88000, 89999), ("florianopolis", "joinville", "blumenau")),
    ("BA", 0.034, 0.006, (40000, 48999), ("salvador", "feira de santana", "vitoria da conquista")),
    ("DF", 0.021, 0.009, (70000, 72799), ("brasilia",)),
    ("ES", 0.020, 0.007, (29000, 29999), ("vitoria", "vila velha", "serra")),
    ("GO", 0.020, 0.013, (72800, 76799), ("goiania", "anapolis", "aparecida de goiania")),
    ("PE", 0.017, 0.003, (50000, 56999), ("recife", "jaboatao dos guararapes", "olinda")),
    ("CE", 0.013, 0.004, (60000, 63999), ("fortaleza", "caucaia")),
    ("PA", 0.010, 0.001, (66000, 68899), ("belem", "ananindeua")),
    ("MT", 0.009, 0.001, (78000, 78899), ("cuiaba", "varzea grande")),
    ("MA", 0.008, 0.001, (65000, 65999), ("sao luis",)),
    ("MS", 0.007, 0.002, (79000, 79999), ("campo grande", "dourados")),
    ("PB", 0.005, 0.002, (58000, 58999), ("joao pessoa", "campina grande")),
    ("PI", 0.005, 0.001, (64000, 64999), ("teresina",)),
    ("RN", 0.005, 0.002, (59000, 59999), ("natal", "mossoro")),
    ("AL", 0.004, 0.001, (57000, 57999), ("maceio",)),
    ("SE", 0.004, 0.001, (49000, 49999), ("aracaju",)),
    ("TO", 0.003, 0.001, (77000, 77999), ("palmas",)),
    ("RO", 0.003, 0.001, (76800, 76999), ("porto velho",)),
    ("AM", 0.002, 0.001, (69000, 69299), ("manaus",)),
    ("AC", 0.001, 0.001, (69900, 69999), ("rio branco",)),
    ("AP", 0.001, 0.001, (68900, 68999), ("macapa",)),
    ("RR", 0.001, 0.001, (69300, 69399), ("boa vista",)),
)

# category (Olist's Portuguese names), share of order items, median price (BRL), median weight (g), nouns
CATEGORIES: tuple[tuple[str, float, float, int, tuple[str, ...]], ...] = (
    ("cama_mesa_banho", 0.100, 80, 1500, ("Jogo de Cama", "Toalha de Banho", "Edredom", "Travesseiro")),
    ("beleza_saude", 0.086, 90, 600, ("Kit Skincare", "Secador", "Perfume", "Escova Alisadora")),
    (
        "esporte_lazer",
        0.077,
        85,
        1200,
        ("Bola", "Garrafa Termica", "Luva de Treino", "Bicicleta Ergometrica"),
    ),
    ("moveis_decoracao", 0.074, 90, 2500, ("Luminaria", "Quadro Decorativo", "Prateleira", "Espelho")),
    ("informatica_acessorios", 0.069, 110, 800, ("Mouse", "Teclado", "Headset", "Cabo HDMI", "Pendrive")),
    ("utilidades_domesticas", 0.062, 70, 1300, ("Jogo de Panelas", "Organizador", "Garrafa", "Tabua")),
    ("relogios_presentes", 0.053, 200, 400, ("Relogio", "Caixa de Presente", "Pulseira")),
    ("telefonia", 0.040, 70, 250, ("Capa de Celular", "Carregador", "Pelicula", "Fone Bluetooth")),
    ("ferramentas_jardim", 0.039, 110, 2200, ("Mangueira", "Cortador de Grama", "Tesoura de Poda")),
    ("automotivo", 0.038, 120, 1400, ("Tapete Automotivo", "Capa de Banco", "Som Automotivo")),
    ("brinquedos", 0.037, 80, 900, ("Boneca", "Carrinho", "Quebra-Cabeca", "Jogo de Tabuleiro")),
    ("cool_stuff", 0.034, 150, 2000, ("Caixa de Som", "Luminaria Neon", "Mini Geladeira")),
    ("perfumaria", 0.031, 100, 400, ("Perfume", "Desodorante", "Colonia")),
    ("bebes", 0.027, 100, 1800, ("Carrinho de Bebe", "Mamadeira", "Babador", "Berco Portatil")),
    ("eletronicos", 0.025, 60, 400, ("Fone de Ouvido", "Controle Remoto", "Pilha Recarregavel")),
    ("papelaria", 0.022, 50, 500, ("Caderno", "Agenda", "Estojo", "Caneta")),
    ("fashion_bolsas_e_acessorios", 0.018, 60, 350, ("Bolsa", "Carteira", "Oculos de Sol", "Mochila")),
    ("pet_shop", 0.017, 70, 1200, ("Racao", "Cama Pet", "Coleira", "Arranhador")),
    ("moveis_escritorio", 0.015, 200, 10000, ("Cadeira de Escritorio", "Mesa", "Gaveteiro")),
    ("consoles_games", 0.010, 120, 600, ("Controle", "Jogo", "Suporte de Console")),
    ("malas_acessorios", 0.010, 150, 3500, ("Mala de Viagem", "Necessaire", "Mochila de Viagem")),
    ("construcao_ferramentas_construcao", 0.008, 110, 3000, ("Furadeira", "Nivel a Laser", "Jogo de Chaves")),
    ("eletrodomesticos", 0.007, 110, 3000, ("Liquidificador", "Batedeira", "Aspirador")),
    ("instrumentos_musicais", 0.006, 180, 2500, ("Violao", "Teclado Musical", "Afinador")),
    ("eletroportateis", 0.006, 250, 3500, ("Cafeteira", "Fritadeira Eletrica", "Sanduicheira")),
    ("livros_interesse_geral", 0.005, 40, 500, ("Livro", "Box de Livros")),
    ("alimentos", 0.004, 40, 900, ("Cafe Especial", "Chocolate", "Azeite")),
)
COLORS = ("Azul", "Preto", "Branco", "Cinza", "Vermelho", "Verde", "Rosa", "Bege", "Marrom", "Dourado")

# payment type, share of orders (the first payment); vouchers also come as 2nd/3rd payments
PAYMENT_TYPES = (("credit_card", 0.74), ("boleto", 0.19), ("voucher", 0.055), ("debit_card", 0.015))
# instalments of a card payment: 1..10
INSTALLMENTS_P = (0.50, 0.12, 0.10, 0.07, 0.05, 0.04, 0.03, 0.05, 0.01, 0.03)
# order items per order: 1..5
ITEMS_PER_ORDER_P = (0.88, 0.096, 0.016, 0.005, 0.003)

# review score 1..5, by how the order ended
REVIEW_SCORES_ON_TIME = (0.07, 0.025, 0.08, 0.20, 0.625)
REVIEW_SCORES_LATE = (0.45, 0.12, 0.15, 0.13, 0.15)
REVIEW_SCORES_CANCELED = (0.80, 0.10, 0.05, 0.03, 0.02)
REVIEW_TITLES = {
    1: ("Nao recomendo", "Pessimo", "Nao recebi", "Decepcionado"),
    2: ("Ruim", "Deixou a desejar", "Atrasou"),
    3: ("Razoavel", "Mais ou menos", "Ok"),
    4: ("Bom", "Gostei", "Recomendo"),
    5: ("Excelente", "Otimo", "Super recomendo", "Perfeito"),
}
REVIEW_MESSAGES = {
    1: ("Nao recebi o produto ate agora.", "Produto veio com defeito e ninguem responde.",
        "Comprei dois e recebi apenas um.", "Pessima experiencia, quero meu dinheiro de volta."),
    2: ("Produto diferente do anunciado.", "Entrega atrasou muito.", "A qualidade e inferior ao esperado."),
    3: ("Produto ok, mas a embalagem veio danificada.", "Chegou no prazo, qualidade razoavel."),
    4: ("Bom produto, entrega dentro do prazo.", "Gostei, mas poderia ser mais barato.",
        "Recomendo o vendedor."),
    5: ("Produto excelente, chegou antes do prazo!", "Muito bom, recomendo.", "Tudo certo, otimo vendedor.",
        "Superou minhas expectativas."),
}  # fmt: skip

# the marketing funnel: where marketing-qualified leads come from, and what closed deals look like
LEAD_ORIGINS = (
    ("organic_search", 0.29), ("paid_search", 0.20), ("social", 0.17), ("unknown", 0.10),
    ("direct_traffic", 0.08), ("email", 0.06), ("referral", 0.03), ("other", 0.02), ("display", 0.02),
    ("other_publicities", 0.01), ("", 0.02),
)  # fmt: skip
BUSINESS_SEGMENTS = (
    ("home_decor", 0.13), ("health_beauty", 0.11), ("car_accessories", 0.09), ("household_utilities", 0.08),
    ("construction_tools_house_garden", 0.08), ("audio_video_electronics", 0.07), ("computers", 0.04),
    ("pet", 0.04), ("food_supplement", 0.03), ("sports_leisure", 0.06), ("bed_bath_table", 0.04),
    ("toys", 0.03), ("fashion_accessories", 0.03), ("stationery", 0.03), ("watches", 0.03),
    ("small_appliances", 0.03), ("phone_mobile", 0.03), ("perfume", 0.02), ("music_instruments", 0.02),
    ("other", 0.01),
)  # fmt: skip
LEAD_TYPES = (
    ("online_medium", 0.39), ("online_big", 0.15), ("industry", 0.15), ("offline", 0.12),
    ("online_small", 0.09), ("online_beginner", 0.07), ("online_top", 0.03),
)  # fmt: skip
LANDING_PAGES = 40

# marketing campaigns: channel, code prefix, median daily budget (BRL), cost per 1000 impressions, click rate
CHANNELS = (
    ("paid_search", "PSE", 400.0, 12.0, 0.035),
    ("social", "SOC", 250.0, 6.0, 0.012),
    ("display", "DSP", 150.0, 2.5, 0.004),
    ("email", "EML", 40.0, 1.0, 0.025),
    ("referral", "REF", 80.0, 4.0, 0.010),
)
CAMPAIGN_THEMES = (
    "Black Friday", "Volta as Aulas", "Dia das Maes", "Dia dos Pais", "Verao", "Liquidacao", "Frete Gratis",
    "Natal", "Dia dos Namorados", "Semana do Consumidor", "Aniversario da Loja", "Inverno",
)  # fmt: skip
# orders by day of week, Monday first (Olist: most on Monday and Tuesday, fewest on Saturday)
WEEKDAY_FACTORS = (1.16, 1.14, 1.10, 1.06, 1.01, 0.77, 0.76)
